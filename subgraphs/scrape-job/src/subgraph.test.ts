import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphLogger } from '@edfs/subgraph-shared';
import { createRecordingPublisher, postGraphQL } from '@edfs/subgraph-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScrapeJobSubgraph, type ScrapeJobSubgraph } from './subgraph.js';

const publisher = createRecordingPublisher();
let siteRequests = 0;
const site = createServer((_, res) => {
  siteRequests++;
  res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Home</title><a href="/x">x</a>');
});
let subgraph: ScrapeJobSubgraph;
/** The same subgraph with its defaults: private addresses refused. */
let guarded: ScrapeJobSubgraph;
let pageUrl: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  subgraph = await createScrapeJobSubgraph({
    publisher,
    logger: createSubgraphLogger('scrape-job-test', 'silent'),
    allowPrivateAddresses: true,
  });
  guarded = await createScrapeJobSubgraph({
    publisher,
    logger: createSubgraphLogger('scrape-job-test', 'silent'),
  });
});

afterAll(async () => {
  await subgraph.close();
  await guarded.close();
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
});

const scrape = 'mutation ($url: String!) { scrapeWebsite(url: $url) }';

describe('scrape-job subgraph', () => {
  it('runs a job and serves its state, result and entity', async () => {
    const started = await postGraphQL(subgraph.url, scrape, { url: pageUrl });
    const id = started.data?.['scrapeWebsite'];
    if (typeof id !== 'string') throw new Error(`no job id in ${JSON.stringify(started)}`);
    await subgraph.whenSettled(id);

    const read = await postGraphQL(
      subgraph.url,
      `query ($id: ID!, $reps: [_Any!]!) {
        scrapeJob(id: $id) { id status progress error }
        scrapeResult(id: $id) { url title wordCount linkCount }
        _entities(representations: $reps) { ... on ScrapeJobState { status } }
      }`,
      { id, reps: [{ __typename: 'ScrapeJobState', id }] },
    );
    expect(read).toEqual({
      data: {
        scrapeJob: { id, status: 'COMPLETE', progress: 1, error: null },
        scrapeResult: { url: pageUrl, title: 'Home', wordCount: 2, linkCount: 1 },
        _entities: [{ status: 'COMPLETE' }],
      },
    });
    const mine = publisher.events.filter(({ event }) => event['id'] === id);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const event of mine) {
      expect(event).toEqual({
        subject: `scrapeJob.${id}.state`,
        event: { __typename: 'ScrapeJobState', id },
      });
    }
  });

  it('refuses a URL that is not http or https, starting nothing', async () => {
    const before = publisher.events.length;
    const response = await postGraphQL(subgraph.url, scrape, { url: 'ftp://example.com/' });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toContain('"ftp:" is not supported');
    expect(publisher.events.length).toBe(before);
  });

  it('fails a job on a private address by default, saying how to allow it', async () => {
    const requestsBefore = siteRequests;
    const started = await postGraphQL(guarded.url, scrape, { url: pageUrl });
    const id = started.data?.['scrapeWebsite'];
    if (typeof id !== 'string') throw new Error(`no job id in ${JSON.stringify(started)}`);
    expect(await guarded.whenSettled(id)).toMatchObject({
      status: 'FAILED',
      error:
        '127.0.0.1 resolves to a private address (127.0.0.1); ' +
        'set SCRAPE_ALLOW_PRIVATE=1 to allow it',
    });
    expect(siteRequests).toBe(requestsBefore);
    // Its own demo page, on 127.0.0.1 too, is refused alike.
    const demo = await postGraphQL(guarded.url, scrape, { url: guarded.demoPageUrl });
    const demoId = String(demo.data?.['scrapeWebsite']);
    expect((await guarded.whenSettled(demoId)).error).toMatch(/private address \(127\.0\.0\.1\)/);
  });

  it('answers null for a job it does not know', async () => {
    const response = await postGraphQL(
      subgraph.url,
      '{ scrapeJob(id: "nope") { id } scrapeResult(id: "nope") { url } }',
    );
    expect(response).toEqual({ data: { scrapeJob: null, scrapeResult: null } });
    await expect(subgraph.whenSettled('nope')).rejects.toThrow('no scrape job nope');
  });
});
