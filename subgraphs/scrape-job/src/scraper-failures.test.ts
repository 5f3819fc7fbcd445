import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishedStates, startTestSite, type TestSite } from './scraper.fixtures.js';

const published = new PublishedStates();
let site: TestSite;

beforeAll(async () => {
  site = await startTestSite(published);
});

afterAll(async () => {
  await site.close();
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
