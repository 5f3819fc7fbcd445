/** What the scraper keeps of a page. Regular expressions suffice for these three counts. */
export interface HtmlSummary {
  /** The `<title>`, entities decoded and whitespace collapsed; null when absent or empty. */
  title: string | null;
  /** Words of the visible text: scripts, styles, comments and tags removed. */
  wordCount: number;
  /** `<a>` elements that carry an `href`. */
  linkCount: number;
}

const entities: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#39': "'",
};

/** Decodes the five entities in one pass, so `&amp;lt;` becomes `&lt;`, not `<`. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => entities[name] ?? '');
}

const hidden = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi;
const title = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i;
const tag = /<\/?[a-z!][^>]*>/gi;
const link = /<a\s(?:[^>]*\s)?href\s*=/gi;
const nonBreakingSpace = /&(nbsp|#160);/g;
/** A token counts as a word when it holds a letter or a digit, so "&" or "—" do not. */
const wordLike = /[\p{L}\p{N}]/u;

/** Summarizes an HTML page; pure, and tolerant of malformed markup. */
export function summarizeHtml(html: string): HtmlSummary {
  const visible = html.replace(hidden, ' ');
  const rawTitle = title.exec(visible)?.[1];
  const cleanTitle =
    rawTitle === undefined ? '' : decodeEntities(rawTitle).replace(/\s+/g, ' ').trim();
  const text = decodeEntities(visible.replace(tag, ' ').replace(nonBreakingSpace, ' '));
  return {
    title: cleanTitle === '' ? null : cleanTitle,
    wordCount: text.split(/\s+/).filter((token) => wordLike.test(token)).length,
    linkCount: visible.match(link)?.length ?? 0,
  };
}
