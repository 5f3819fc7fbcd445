import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeJobSubject } from './job-store.js';
import { chunks, PublishedStates, startTestSite, type TestSite } from './scraper.fixtures.js';

const published = new PublishedStates();
let site: TestSite;

beforeAll(async () => {
  site = await startTestSite(published);
});

afterAll(async () => {
  await site.close();
});

describe('Scraper', () => {
  it('reports rising progress while the page streams in, then COMPLETE with a summary', async () => {
    const { scraper, store } = published.createScraper();
    const id = scraper.start(new URL(`${site.origin}/chunked`));
    expect(store.get(id)).toMatchObject({ status: 'PENDING', progress: null });

    expect(await store.whenSettled(id)).toMatchObject({ status: 'COMPLETE', progress: 1 });
    expect(store.result(id)).toEqual({
      url: `${site.origin}/chunked`,
      title: 'Chunked & slow',
      wordCount: 14, // 'Chunked', 'slow', one to ten, 'first', 'second'
      linkCount: 2,
    });

    // Each event was published after its state was stored: the snapshots show the new state.
    const events = published.all.filter(({ state }) => state?.id === id);
    expect(events.map(({ subject }) => subject)).toEqual(events.map(() => scrapeJobSubject(id)));
    const states = published.of(id);
    expect(states[0]).toMatchObject({ status: 'PENDING' });
    expect(states.at(-1)).toMatchObject({ status: 'COMPLETE' });
    const progress = states.slice(1, -1).map((state) => {
      expect(state?.status).toBe('IN_PROGRESS');
      return Number(state?.progress);
    });
    expect(progress[0]).toBe(0);
    expect(progress.length).toBeGreaterThanOrEqual(chunks + 1);
    for (let i = 1; i < progress.length; i++) {
      expect(Number(progress[i]) - Number(progress[i - 1])).toBeGreaterThanOrEqual(0.1 - 1e-9);
      expect(progress[i]).toBeLessThan(1);
    }
  });

  it('reports only the start and the end when the length is unknown', async () => {
    const { scraper, store } = published.createScraper();
    const id = scraper.start(new URL(`${site.origin}/unsized`));
    await store.whenSettled(id);
    expect(published.of(id).map((state) => [state?.status, state?.progress])).toEqual([
      ['PENDING', null],
      ['IN_PROGRESS', 0],
      ['COMPLETE', 1],
    ]);
  });

  it('cancels running jobs on close', async () => {
    const { scraper, store } = published.createScraper();
    const id = scraper.start(new URL(`${site.origin}/hang`));
    await scraper.close();
    expect(store.get(id)).toMatchObject({
      status: 'FAILED',
      error: 'cancelled: the subgraph is shutting down',
    });
  });
});

describe('Scraper failures', () => {
  it('fails on an HTTP error status, saying which', async () => {
    const { scraper, store } = published.createScraper();
    const id = scraper.start(new URL(`${site.origin}/missing`));
    expect(await store.whenSettled(id)).toMatchObject({
      status: 'FAILED',
      progress: null,
      error: 'HTTP 404 Not Found',
    });
    expect(store.result(id)).toBeUndefined();
  });

  it('fails when the host refuses the connection, giving the code', async () => {
    const { scraper, store } = published.createScraper();
    const id = scraper.start(new URL(`http://127.0.0.1:${site.refusedPort}/`));
    expect(await store.whenSettled(id)).toMatchObject({
      status: 'FAILED',
      error: `cannot reach 127.0.0.1:${site.refusedPort}: ECONNREFUSED`,
    });
  });

  it('fails when the server does not answer in time', async () => {
    const { scraper, store } = published.createScraper({ fetchTimeoutMs: 50 });
    const id = scraper.start(new URL(`${site.origin}/hang`));
    expect(await store.whenSettled(id)).toMatchObject({
      status: 'FAILED',
      error: 'timed out after 50 ms',
    });
  });

  it.each(['/whole', '/unsized'])(
    'fails when the page at %s is larger than allowed',
    async (path) => {
      const { scraper, store } = published.createScraper({ maxPageBytes: 100 });
      const id = scraper.start(new URL(`${site.origin}${path}`));
      const state = await store.whenSettled(id);
      expect(state).toMatchObject({ status: 'FAILED' });
      expect(state.error).toMatch(/^page too large: .*the 100-byte limit$/);
    },
  );
});
