/**
 * The HTTP client of the subgraph data sources: undici's `request` in place of Node's
 * `fetch`. A CPU profile of the router under the query benchmark put about 30% of its time
 * in `fetch` (WHATWG Request and Response objects, web streams, an abort signal and timer
 * per request); `request` does the same HTTP/1.1 keep-alive exchange without them. The body
 * is read whole before the executor sees the response, which is all it does with it, up to
 * `MAX_SUBGRAPH_RESPONSE_BYTES`.
 */
import type { Fetcher, FetcherHeaders, FetcherResponse } from '@apollo/utils.fetcher';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { request, type Agent } from 'undici';

/**
 * The most a subgraph answer may hold. A broken or hostile subgraph could otherwise send
 * gigabytes into the router's memory; the request fails as unavailable instead.
 */
export const MAX_SUBGRAPH_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A subgraph's answer was larger than `MAX_SUBGRAPH_RESPONSE_BYTES`. */
export class SubgraphResponseTooLargeError extends Error {
  override readonly name = 'SubgraphResponseTooLargeError';
  constructor(readonly url: string) {
    super(`the answer of ${url} is larger than ${MAX_SUBGRAPH_RESPONSE_BYTES} bytes`);
  }
}

/**
 * A subgraph had not sent its whole answer within `timeoutMs`. Named as `fetch`'s own
 * timeout is, which the data sources report as `SUBGRAPH_TIMEOUT`.
 */
export class SubgraphFetchTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
    options: ErrorOptions,
  ) {
    super(`no answer from ${url} within ${timeoutMs} ms`, options);
  }
}

/** A request cut because its connections were destroyed: the router stopped. */
export class SubgraphRequestAbortedError extends Error {
  override readonly name = 'SubgraphRequestAbortedError';
  constructor(
    readonly url: string,
    options: ErrorOptions,
  ) {
    super(`the request to ${url} was cut: the router stopped`, options);
  }
}

/**
 * A `Fetcher` for `RemoteGraphQLDataSource` that gives up on a subgraph whose answer is not
 * complete after `timeoutMs` (silent, or trickling its body), freeing its socket. Requests
 * go through `dispatcher` (undici's global one if not given).
 */
export function subgraphFetcher(timeoutMs: number, dispatcher?: Agent): Fetcher {
  return async (url, init = {}) => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const { statusCode, headers, body } = await request(url, {
        method: (init.method ?? 'GET') as 'POST',
        headers: init.headers ?? {},
        body: init.body ?? null,
        signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
      const declared = Number(headers['content-length']);
      if (declared > MAX_SUBGRAPH_RESPONSE_BYTES) {
        body.destroy();
        throw new SubgraphResponseTooLargeError(url);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_SUBGRAPH_RESPONSE_BYTES) {
          body.destroy();
          throw new SubgraphResponseTooLargeError(url);
        }
        chunks.push(chunk);
      }
      return new SubgraphResponse(url, statusCode, headers, Buffer.concat(chunks).toString());
    } catch (error) {
      if (signal.aborted) throw new SubgraphFetchTimeoutError(url, timeoutMs, { cause: error });
      if (dispatcher?.destroyed) throw new SubgraphRequestAbortedError(url, { cause: error });
      throw error;
    }
  };
}

/** A response whose body has been read: what `RemoteGraphQLDataSource` reads of one. */
class SubgraphResponse implements FetcherResponse {
  readonly bodyUsed = false;
  readonly redirected = false;
  readonly headers: FetcherHeaders;

  constructor(
    readonly url: string,
    readonly status: number,
    headers: IncomingHttpHeaders,
    readonly body: string,
  ) {
    this.headers = new ResponseHeaders(headers);
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  text(): Promise<string> {
    return Promise.resolve(this.body);
  }

  json(): Promise<unknown> {
    return new Promise((resolve) => resolve(JSON.parse(this.body)));
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(new TextEncoder().encode(this.body).buffer as ArrayBuffer);
  }

  /** The body is a string, read once: a clone can share it. */
  clone(): FetcherResponse {
    return this;
  }
}

/** Headers of a response, by lower-case name; values repeated by the server are joined. */
class ResponseHeaders implements FetcherHeaders {
  readonly #values = new Map<string, string>();

  constructor(headers: IncomingHttpHeaders) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined)
        this.#values.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  set(name: string, value: string): void {
    this.#values.set(name.toLowerCase(), value);
  }

  append(name: string, value: string): void {
    const old = this.get(name);
    this.set(name, old === null ? value : `${old}, ${value}`);
  }

  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  entries(): IterableIterator<[string, string]> {
    return this.#values.entries();
  }

  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  values(): IterableIterator<string> {
    return this.#values.values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#values.entries();
  }
}
