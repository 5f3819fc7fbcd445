import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient, type Subscription } from './support/graphql.js';
import { startGatedPage, type GatedPage } from './support/gated-page.js';

interface JobState {
  scrapeJobState: { id: string; status: string; progress: number | null; error: string | null };
}
const JOB_STATE =
  'subscription ($id: ID!) { scrapeJobState(id: $id) { id status progress error } }';

const PAGE = [
  '<html><head><title>Tea &amp; Cakes</title><style>.x { color: red }</style></head>',
  '<body><h1>Mad Hatter</h1><p>Why is a raven like a writing desk?</p>',
  '<a href="/a">one</a> <a href="/b">two</a><script>var hidden = 1;</script>',
  '<p>No room! No room!</p></body></html>',
];

/** Reads states until one satisfies `done`, returning everything read. */
async function readUntil(
  sub: Subscription<JobState>,
  done: (s: JobState['scrapeJobState']) => boolean,
) {
  const seen: JobState['scrapeJobState'][] = [];
  for (;;) {
    const result = await sub.next();
    expect(result.errors).toBeUndefined();
    seen.push(result.data!.scrapeJobState);
    if (done(seen.at(-1)!)) return seen;
  }
}

describe('CQRS: a mutation starts a scrape, a subscription follows it', () => {
  let stack: TestStack;
  let client: Client;
  let page: GatedPage;

  beforeAll(async () => {
    stack = await startTestStack({ scrapeTimeoutMs: 5_000 });
    client = wsClient(stack.router.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await page?.close();
    await stack?.close();
  });

  async function startJob(url: string): Promise<string> {
    const started = await post<{ scrapeWebsite: string }>(
      stack.router.url,
      'mutation ($url: String!) { scrapeWebsite(url: $url) }',
      { url },
    );
    expect(started.body.errors).toBeUndefined();
    return started.body.data!.scrapeWebsite;
  }

  it('reports rising progress through to COMPLETE, then serves the result', async () => {
    page = await startGatedPage();
    const id = await startJob(page.url);
    const sub = subscribe<JobState>(client, JOB_STATE, { id });
    await stack.subscribedOn(`scrapeJob.${id}.state`);
    await page.requested();
    const current = await post<{ scrapeJob: { status: string } }>(
      stack.router.url,
      `{ scrapeJob(id: "${id}") { status } }`,
    );
    expect(current.body.data?.scrapeJob.status).toBe('PENDING');

    const html = PAGE.join('');
    page.respond(200, Buffer.byteLength(html));
    const seen = await readUntil(sub, (s) => s.status === 'IN_PROGRESS');
    for (const [i, chunk] of PAGE.entries()) {
      page.send(chunk);
      if (i < PAGE.length - 1)
        seen.push(...(await readUntil(sub, (s) => s.progress! >= (i + 1) / PAGE.length - 0.1)));
    }
    page.end();
    seen.push(...(await readUntil(sub, (s) => s.status === 'COMPLETE' || s.status === 'FAILED')));

    expect(seen.at(-1)).toEqual({ id, status: 'COMPLETE', progress: 1, error: null });
    const progress = seen.filter((s) => s.status === 'IN_PROGRESS').map((s) => s.progress!);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    expect(progress.every((p) => p >= 0 && p < 1)).toBe(true);

    // 16 words in the body and 2 in the title; the style and script blocks are not text.
    const result = await post(
      stack.router.url,
      `{ scrapeResult(id: "${id}") { url title wordCount linkCount } }`,
    );
    expect(result.body).toEqual({
      data: { scrapeResult: { url: page.url, title: 'Tea & Cakes', wordCount: 18, linkCount: 2 } },
    });
    await sub.unsubscribe();
  });

  it('reports FAILED with the reason when the page answers 404', async () => {
    const notFound = await startGatedPage();
    try {
      const id = await startJob(notFound.url);
      const sub = subscribe<JobState>(client, JOB_STATE, { id });
      await stack.subscribedOn(`scrapeJob.${id}.state`);
      await notFound.requested();

      notFound.respond(404, 0);
      notFound.end();

      const seen = await readUntil(sub, (s) => s.status === 'FAILED' || s.status === 'COMPLETE');
      expect(seen.at(-1)).toMatchObject({ id, status: 'FAILED', error: 'HTTP 404 Not Found' });
      const result = await post(stack.router.url, `{ scrapeResult(id: "${id}") { title } }`);
      expect(result.body).toEqual({ data: { scrapeResult: null } });
      await sub.unsubscribe();
    } finally {
      await notFound.close();
    }
  });

  it('reports FAILED for a host that refuses the connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const id = await startJob(`http://127.0.0.1:${port}/`);
    await stack.subgraphs.scrapeJob.whenSettled(id);

    const state = await post(stack.router.url, `{ scrapeJob(id: "${id}") { status error } }`);
    expect(state.body.data).toEqual({
      scrapeJob: { status: 'FAILED', error: expect.stringContaining('ECONNREFUSED') },
    });
  });

  it.each(['ftp://example.com/file', 'not a url', 'javascript:alert(1)', ''])(
    'refuses to scrape %j',
    async (url) => {
      const response = await post(
        stack.router.url,
        'mutation ($url: String!) { scrapeWebsite(url: $url) }',
        { url },
      );
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
    },
  );
});
