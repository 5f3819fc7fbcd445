/** A test site and a recording publisher for the scraper's tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphLogger, type EventPublisher } from '@edfs/subgraph-shared';
import { ScrapeJobStore, type ScrapeJobState } from './job-store.js';
import { Scraper, type ScraperOptions } from './scraper.js';

export const page = Buffer.from(
  '<html><head><title>Chunked &amp; slow</title></head><body>' +
    '<p>one two three four five six seven eight nine ten</p>' +
    '<a href="/1">first</a> <a href="/2">second</a></body></html>',
);
/** How many pieces `/chunked` sends the page in. */
export const chunks = 4;

/** Every published event, with the state the store held when it was published. */
export class PublishedStates {
  readonly all: { subject: string; state: ScrapeJobState | undefined }[] = [];
  readonly #waiters = new Set<() => void>();

  publisherFor(store: () => ScrapeJobStore): EventPublisher {
    return {
      publish: (subject, event) => {
        this.all.push({ subject, state: store().get(String(event['id'])) });
        const waiters = [...this.#waiters];
        this.#waiters.clear();
        for (const wake of waiters) wake();
      },
      close: async () => {},
    };
  }

  of(id: string): (ScrapeJobState | undefined)[] {
    return this.all.filter(({ state }) => state?.id === id).map(({ state }) => state);
  }

  /** Resolves once a published state matches. */
  async waitFor(match: (state: ScrapeJobState | undefined) => boolean): Promise<void> {
    while (!this.all.some(({ state }) => match(state))) {
      await new Promise<void>((wake) => this.#waiters.add(wake));
    }
  }

  /** A store that publishes here, and a scraper over it with a silent logger, allowing every address. */
  createScraper(options: Partial<ScraperOptions> = {}): {
    scraper: Scraper;
    store: ScrapeJobStore;
  } {
    const store: ScrapeJobStore = new ScrapeJobStore(this.publisherFor(() => store));
    const scraper = new Scraper({
      store,
      logger: createSubgraphLogger('scrape-job-test', 'silent'),
      fetchTimeoutMs: 5_000,
      maxPageBytes: 1024 * 1024,
      maxRedirects: 5,
      blockList: undefined,
      ...options,
    });
    return { scraper, store };
  }
}

export interface TestSite {
  origin: string;
  /** A port nothing listens on. */
  refusedPort: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * Serves `/chunked` (the page with its length, one chunk at a time, each sent once the
 * previous one shows in `published`), `/whole`, `/unsized` (no length), `/hang` (no answer)
 * and 404 elsewhere.
 */
export async function startTestSite(published: PublishedStates): Promise<TestSite> {
  const server = createServer(async (req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': page.length });
      const size = Math.ceil(page.length / chunks);
      for (let i = 1; i <= chunks; i++) {
        res.write(page.subarray((i - 1) * size, i * size));
        const reached = Math.min((i * size) / page.length, 0.99);
        if (i < chunks) {
          await published.waitFor((s) => s?.status === 'IN_PROGRESS' && s.progress >= reached);
        }
      }
      res.end();
    } else if (req.url === '/whole') {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': page.length }).end(page);
    } else if (req.url === '/unsized') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    } else if (req.url !== '/hang') {
      res.writeHead(404).end('not here');
    }
  });
  const origin = `http://127.0.0.1:${await listen(server)}`;
  const closed = createServer();
  const refusedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  return {
    origin,
    refusedPort,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
