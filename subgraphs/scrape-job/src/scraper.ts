import { randomUUID } from 'node:crypto';
import type { BlockList } from 'node:net';
import type { Logger } from '@edfs/subgraph-shared';
import { Agent } from 'undici';
import { guardedLookup } from './address-guard.js';
import { downloadPage } from './download.js';
import { ScrapeError } from './errors.js';
import { summarizeHtml } from './html-summary.js';
import type { ScrapeJobStore } from './job-store.js';

export interface ScraperOptions {
  /** Where job states and results are stored (and, from there, published). */
  store: ScrapeJobStore;
  /** Gives up on a page after this many milliseconds. */
  fetchTimeoutMs: number;
  /** Refuses pages larger than this many bytes. */
  maxPageBytes: number;
  /** Fails a job on the redirect after this many. */
  maxRedirects: number;
  /**
   * Addresses no hop of a scrape may connect to (`privateAddressBlockList()` by default in
   * the subgraph); `undefined` allows all.
   */
  blockList: BlockList | undefined;
  /** Where finished jobs are logged. */
  logger: Logger;
}

/**
 * Runs scrape jobs in the background: PENDING at creation, IN_PROGRESS from the response
 * headers on, then COMPLETE with a result or FAILED with a reason.
 */
export class Scraper {
  readonly #options: ScraperOptions;
  readonly #shutdown = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #agent: Agent;

  constructor(options: ScraperOptions) {
    this.#options = options;
    const { blockList } = options;
    this.#agent = new Agent(blockList ? { connect: { lookup: guardedLookup(blockList) } } : {});
  }

  /** Creates a job for `url`, starts it, and returns its id without waiting. */
  start(url: URL): string {
    const id = randomUUID();
    this.#options.store.create(id);
    const job = this.#run(id, url)
      .catch((error: unknown) =>
        this.#options.logger.error({ err: error, jobId: id }, 'scrape job crashed'),
      )
      .finally(() => this.#running.delete(job));
    this.#running.add(job);
    return id;
  }

  /** Cancels the jobs still running and waits until each has stored its FAILED state. */
  async close(): Promise<void> {
    this.#shutdown.abort();
    await Promise.all(this.#running);
    await this.#agent.close();
  }

  async #run(id: string, url: URL): Promise<void> {
    const { store, logger, fetchTimeoutMs, maxPageBytes, maxRedirects, blockList } = this.#options;
    try {
      const html = await downloadPage(url, {
        dispatcher: this.#agent,
        blockList,
        maxRedirects,
        timeoutMs: fetchTimeoutMs,
        maxBytes: maxPageBytes,
        signal: this.#shutdown.signal,
        onResponse: () => store.progress(id, 0),
        onProgress: (progress) => store.progress(id, progress),
      });
      store.complete(id, { url: url.href, ...summarizeHtml(html) });
      logger.info({ jobId: id, url: url.href }, 'scrape job complete');
    } catch (error) {
      const failure =
        error instanceof ScrapeError
          ? error
          : new ScrapeError('failed', String(error), { cause: error });
      store.fail(id, failure.message);
      logger.info(
        { jobId: id, url: url.href, reason: failure.reason, err: failure },
        'scrape job failed',
      );
    }
  }
}
