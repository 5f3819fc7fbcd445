/** Why a scrape job failed; the message is what `ScrapeJobState.error` shows. */
export type ScrapeFailureReason =
  'unreachable' | 'http-status' | 'timeout' | 'too-large' | 'cancelled' | 'failed';

/** A page could not be fetched or read. */
export class ScrapeError extends Error {
  override readonly name = 'ScrapeError';
  constructor(
    readonly reason: ScrapeFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `whenSettled` was asked about a job the store never created. */
export class ScrapeJobNotFoundError extends Error {
  override readonly name = 'ScrapeJobNotFoundError';
  constructor(readonly jobId: string) {
    super(`no scrape job ${jobId}`);
  }
}
