/** Why a scrape job failed; the message is what `ScrapeJobState.error` shows. */
export type ScrapeFailureReason =
  | 'unreachable'
  | 'private-address'
  | 'redirect'
  | 'http-status'
  | 'timeout'
  | 'too-large'
  | 'cancelled'
  | 'failed';

/** A page could not be fetched or read. */
export class ScrapeError extends Error {
  override readonly name: string = 'ScrapeError';
  constructor(
    readonly reason: ScrapeFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The host resolves to an address the scraper may not reach (see private-addresses.ts). */
export class PrivateAddressError extends ScrapeError {
  override readonly name = 'PrivateAddressError';
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(
      'private-address',
      `${hostname} resolves to a private address (${address}); ` +
        'set SCRAPE_ALLOW_PRIVATE=1 to allow it',
    );
  }
}

/** `whenSettled` was asked about a job the store never created. */
export class ScrapeJobNotFoundError extends Error {
  override readonly name = 'ScrapeJobNotFoundError';
  constructor(readonly jobId: string) {
    super(`no scrape job ${jobId}`);
  }
}
