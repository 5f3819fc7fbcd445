import type { BlockList } from 'node:net';
import type { ReadableStream } from 'node:stream/web';
import { fetch, type Dispatcher, type Response } from 'undici';
import { checkLiteralHost } from './address-guard.js';
import { ScrapeError, type ScrapeFailureReason } from './errors.js';

export interface DownloadOptions {
  /**
   * Opens the connections; when `blockList` is set, its lookup must refuse the same
   * addresses (see `guardedLookup`), as only IP literals are checked here.
   */
  dispatcher: Dispatcher;
  /** Addresses no hop may be; `undefined` allows every address. */
  blockList: BlockList | undefined;
  /** Fails the download on the redirect after this many. */
  maxRedirects: number;
  /** Gives up on the whole download, headers and body, after this many milliseconds. */
  timeoutMs: number;
  /** Refuses pages with more bytes than this (after decompression). */
  maxBytes: number;
  /** Aborts the download from outside, e.g. when the subgraph shuts down. */
  signal: AbortSignal;
  /** Called once the response headers are in and the body is about to be read. */
  onResponse(): void;
  /** Called with the share downloaded (below 1) each time it rises by at least 0.1. */
  onProgress(progress: number): void;
}

/** Errors whose code means the host could not be reached at all. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const largestProgress = 0.99;
/** Failures that happen at one hop, and so say which hop when it was not the first. */
const hopReasons = new Set<ScrapeFailureReason>([
  'unreachable',
  'private-address',
  'http-status',
  'failed',
]);

/**
 * Fetches `url` and returns its body as text, reporting progress when the length is known.
 * Redirects are followed here, not by fetch, so that every hop is checked like the first.
 *
 * @throws ScrapeError saying why the page could not be had.
 */
export async function downloadPage(url: URL, options: DownloadOptions): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, options.signal]);
  let hop = url;
  try {
    for (let redirects = 0; ; redirects++) {
      if (options.blockList) checkLiteralHost(options.blockList, hop.hostname);
      const response = await fetch(hop, {
        signal,
        headers: { accept: 'text/html, */*;q=0.5' },
        dispatcher: options.dispatcher,
        redirect: 'manual',
      });
      const location = redirectStatuses.has(response.status)
        ? response.headers.get('location')
        : null;
      if (location === null) return await readPage(response, options);
      await response.body?.cancel();
      if (redirects === options.maxRedirects) {
        throw new ScrapeError('redirect', `more than ${options.maxRedirects} redirects`);
      }
      hop = nextHop(hop, location);
    }
  } catch (error) {
    const failure = toScrapeError(error, hop, timeout, options);
    if (hop === url || !hopReasons.has(failure.reason)) throw failure;
    throw new ScrapeError(failure.reason, `redirected to ${hop.href}: ${failure.message}`, {
      cause: failure,
    });
  }
}

/** Where a redirect from `from` to `location` leads. @throws ScrapeError */
function nextHop(from: URL, location: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch (error) {
    throw new ScrapeError('redirect', `redirected to an invalid URL "${location}"`, {
      cause: error,
    });
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    throw new ScrapeError(
      'redirect',
      `redirected to ${to.href}: scheme "${to.protocol}" is not supported`,
    );
  }
  return to;
}

async function readPage(response: Response, options: DownloadOptions): Promise<string> {
  if (!response.ok) {
    await response.body?.cancel();
    throw new ScrapeError('http-status', `HTTP ${response.status} ${response.statusText}`.trim());
  }
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const knownLength = Number.isSafeInteger(length) && length > 0 ? length : undefined;
  if (knownLength !== undefined && knownLength > options.maxBytes) {
    await response.body?.cancel();
    throw tooLarge(options.maxBytes, knownLength);
  }
  options.onResponse();
  return response.body ? await readText(response.body, knownLength, options) : '';
}

async function readText(
  body: ReadableStream<Uint8Array>,
  length: number | undefined,
  options: DownloadOptions,
): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  let reportedBytes = 0;
  let reportedProgress = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > options.maxBytes) {
      await reader.cancel();
      throw tooLarge(options.maxBytes);
    }
    text += decoder.decode(value, { stream: true });
    // Compare bytes, not fractions: 0.3 - 0.2 < 0.1 in floating point.
    if (length !== undefined && (bytes - reportedBytes) * 10 >= length) {
      const progress = Math.min(bytes / length, largestProgress);
      reportedBytes = bytes;
      if (progress > reportedProgress) options.onProgress((reportedProgress = progress));
    }
  }
}

function tooLarge(maxBytes: number, length?: number): ScrapeError {
  const size = length === undefined ? 'more than' : `${length} bytes, over`;
  return new ScrapeError('too-large', `page too large: ${size} the ${maxBytes}-byte limit`);
}

function toScrapeError(
  error: unknown,
  url: URL,
  timeout: AbortSignal,
  options: DownloadOptions,
): ScrapeError {
  // fetch wraps what the socket's lookup refused in a TypeError.
  const known = scrapeErrorIn(error);
  if (known) return known;
  if (timeout.aborted) {
    return new ScrapeError('timeout', `timed out after ${options.timeoutMs} ms`, { cause: error });
  }
  if (options.signal.aborted) {
    return new ScrapeError('cancelled', 'cancelled: the subgraph is shutting down', {
      cause: error,
    });
  }
  const code = errorCode(error);
  if (code !== undefined && unreachableCodes.has(code)) {
    return new ScrapeError('unreachable', `cannot reach ${url.host}: ${code}`, { cause: error });
  }
  const detail = code ?? messageOf(error instanceof Error && error.cause ? error.cause : error);
  return new ScrapeError('failed', `request to ${url.host} failed: ${detail}`, { cause: error });
}

function scrapeErrorIn(error: unknown, depth = 0): ScrapeError | undefined {
  if (error instanceof ScrapeError) return error;
  if (!(error instanceof Error) || depth > 5) return undefined;
  return scrapeErrorIn(error.cause, depth + 1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first `code` along the `cause` chain; fetch wraps the socket error in a TypeError. */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  if (error instanceof AggregateError) return errorCode(error.errors[0], depth + 1);
  return errorCode(error.cause, depth + 1);
}
