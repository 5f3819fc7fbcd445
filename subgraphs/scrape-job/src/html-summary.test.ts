import { describe, expect, it } from 'vitest';
import { decodeEntities, summarizeHtml } from './html-summary.js';

describe('summarizeHtml', () => {
  it('reads the title, decoding entities and trimming', () => {
    const html =
      '<html><head><title>\n  Tom &amp; Jerry &lt;3 &quot;cheese&quot; &#39;n&#39; more  </title></head></html>';
    expect(summarizeHtml(html).title).toBe('Tom & Jerry <3 "cheese" \'n\' more');
  });

  it('gives a null title when there is none or it is blank', () => {
    expect(summarizeHtml('<p>no head</p>').title).toBeNull();
    expect(summarizeHtml('<title>  </title>').title).toBeNull();
  });

  it('decodes each entity once', () => {
    expect(decodeEntities('&amp;lt; &gt;')).toBe('&lt; >');
  });

  it('counts the words of the visible text only', () => {
    const html = `<!DOCTYPE html><html><head><title>Two words</title>
      <style>body { color: red; } .many .selectors {}</style>
      <script type="module">const hidden = "not words at all";</script></head>
      <body><h1>Hello,&nbsp;world</h1><!-- a comment with words -->
      <p>One <b>two</b> three &amp; four — five.</p></body></html>`;
    // "Two words" + "Hello, world" + "One two three four five."
    expect(summarizeHtml(html).wordCount).toBe(2 + 2 + 5);
  });

  it('counts anchors that have an href', () => {
    const html = `<a href="/a">a</a> <A class="x" HREF='/b'>b</A> <a name="top">no</a>
      <a data-href="/c">no</a> <area href="/d"> <abbr title="x">no</abbr>
      <script>document.write('<a href="/e">e</a>')</script>`;
    expect(summarizeHtml(html).linkCount).toBe(2);
  });

  it('copes with an empty page', () => {
    expect(summarizeHtml('')).toEqual({ title: null, wordCount: 0, linkCount: 0 });
  });
});
