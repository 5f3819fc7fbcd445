import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  createSubgraphLogger,
  loadSubgraphSdl,
  serveSubgraph,
  type EventPublisher,
  type Logger,
  type RunningSubgraph,
} from '@edfs/subgraph-shared';
import {
  createDemoPage,
  DEMO_PAGE_MAX_SECONDS,
  DEMO_PAGE_PATH,
  type DemoPageOptions,
} from './demo-page.js';
import { ScrapeJobStore, type SettledScrapeJobState } from './job-store.js';
import { createScrapeJobResolvers } from './resolvers.js';
import { privateAddressBlockList } from './private-addresses.js';
import { Scraper } from './scraper.js';

/**
 * How long a scrape may take by default: a job is long by design, and this one must outlast
 * the subgraph's own demo page at its slowest (60 s), with room for a loaded machine.
 */
export const DEFAULT_FETCH_TIMEOUT_MS = (DEMO_PAGE_MAX_SECONDS + 30) * 1000;

export interface ScrapeJobSubgraphOptions {
  /** Receives `{"__typename":"ScrapeJobState","id":…}` on `scrapeJob.<id>.state` per change. */
  publisher: EventPublisher;
  /**
   * The TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number | undefined;
  /**
   * The interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * Gives up on a page, headers and body, after this many milliseconds.
   * @default DEFAULT_FETCH_TIMEOUT_MS (90 s)
   */
  fetchTimeoutMs?: number | undefined;
  /**
   * Fails a job whose page is larger than this many bytes.
   * @default 5 * 1024 * 1024
   */
  maxPageBytes?: number | undefined;
  /**
   * Fails a job whose page redirects more often than this; each hop is checked like the first.
   * @default 5
   */
  maxRedirects?: number | undefined;
  /**
   * Let jobs fetch loopback, private, link-local (cloud metadata), CGNAT, multicast and
   * reserved addresses (see private-addresses.ts), checked after DNS resolution on every hop.
   * The standalone subgraph reads it from `SCRAPE_ALLOW_PRIVATE=1`; its own demo page, on
   * 127.0.0.1, needs it.
   * @default false
   */
  allowPrivateAddresses?: boolean | undefined;
  /**
   * Where failures and finished jobs are logged.
   * @default createSubgraphLogger('scrape-job')
   */
  logger?: Logger | undefined;
  /**
   * Serve `GET /demo/slow-page?seconds=N` to loopback clients: a page that takes N seconds
   * to download, to watch a job's progress with; `false` turns it off.
   * @default {}
   */
  demoPage?: DemoPageOptions | false | undefined;
}

/** The running scrape-job subgraph. */
export interface ScrapeJobSubgraph extends RunningSubgraph {
  /** The slow demo page, e.g. `http://127.0.0.1:4003/demo/slow-page`, unless turned off. */
  readonly demoPageUrl: string | undefined;
  /** Resolves with a job's final state, COMPLETE or FAILED; rejects for an unknown id. */
  whenSettled(id: string): Promise<SettledScrapeJobState>;
}

/** Starts the scrape-job subgraph; `close()` also cancels the jobs still running. */
export async function createScrapeJobSubgraph(
  options: ScrapeJobSubgraphOptions,
): Promise<ScrapeJobSubgraph> {
  const logger = options.logger ?? createSubgraphLogger('scrape-job');
  const store = new ScrapeJobStore(options.publisher);
  const scraper = new Scraper({
    store,
    logger,
    fetchTimeoutMs: options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    maxPageBytes: options.maxPageBytes ?? 5 * 1024 * 1024,
    maxRedirects: options.maxRedirects ?? 5,
    blockList: options.allowPrivateAddresses ? undefined : privateAddressBlockList(),
  });
  const schema = buildSubgraphSchema([
    {
      typeDefs: loadSubgraphSdl('scrape-job'),
      resolvers: createScrapeJobResolvers(store, scraper),
    },
  ]);
  const demoPage = options.demoPage ?? {};
  const server = await serveSubgraph({
    name: 'scrape-job',
    schema,
    port: options.port,
    host: options.host,
    logger,
    routes: demoPage ? { [DEMO_PAGE_PATH]: createDemoPage({ ...demoPage, logger }) } : {},
  });
  return {
    url: server.url,
    demoPageUrl: demoPage ? server.url.replace(/\/graphql$/, DEMO_PAGE_PATH) : undefined,
    port: server.port,
    whenSettled: (id) => store.whenSettled(id),
    async close() {
      await server.close();
      await scraper.close();
    },
  };
}
