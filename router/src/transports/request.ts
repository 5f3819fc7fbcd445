import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parseRequestParams } from 'graphql-http';
import type { GraphQLRequest } from '../core.js';

/** A request refused before any GraphQL ran: status, a message for the client, headers. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
    /** The GraphQL error's `extensions`, e.g. its `code`. */
    readonly extensions?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** A mutation sent with GET, which may be a link or a prefetch: refused, on every transport. */
export function mutationOverGet(): HttpError {
  return new HttpError(405, 'Mutations are sent with POST.', { allow: 'POST' });
}

/**
 * Reads a request body as UTF-8, refusing one larger than `maxBytes` with 413: at once when
 * `Content-Length` says so, or as soon as a chunked body passes the limit.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (Number(req.headers['content-length']) > maxBytes) {
    return Promise.reject(payloadTooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop reading but keep the socket, so the client can still read the 413.
      req.off('data', onData).pause();
      reject(payloadTooLarge(maxBytes));
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function payloadTooLarge(maxBytes: number): HttpError {
  // The rest of the body stays unread, so the connection cannot be reused.
  return new HttpError(413, `The request body is larger than the limit of ${maxBytes} bytes.`, {
    connection: 'close',
  });
}

/**
 * The GraphQL request in a `GET` query string or a `POST` JSON body, read and checked by
 * graphql-http's own rules (405, 415, 400) so every transport refuses the same requests
 * the same way; the body is read here, within `maxBytes`.
 */
export async function readGraphQLRequest(
  req: IncomingMessage,
  maxBytes: number,
): Promise<GraphQLRequest> {
  const body = req.method === 'POST' ? await readBody(req, maxBytes) : '';
  const request = { method: req.method ?? 'GET', url: req.url ?? '/', body };
  let params: Awaited<ReturnType<typeof parseRequestParams>>;
  try {
    params = await parseRequestParams({
      ...request,
      headers: { get: (name: string) => header(req, name) },
      raw: req,
      context: undefined,
    });
  } catch (error) {
    // graphql-http throws for a malformed request: bad JSON, no query, wrong variables…
    throw new HttpError(400, unreadable(request, error).message);
  }
  if (Array.isArray(params)) {
    const [, init] = params;
    throw new HttpError(
      init.status,
      init.status === 415
        ? 'Send the request as application/json (POST) or in the query string (GET).'
        : `${init.statusText}.`,
      init.headers,
    );
  }
  return params as GraphQLRequest;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : (value ?? null);
}

/**
 * Answers a refused request with GraphQL-shaped JSON errors; one whose error names no code
 * gets `BAD_REQUEST` (a 4xx, as graphql-http's refusals here) or `INTERNAL_SERVER_ERROR`
 * (a 5xx), so every error has a code.
 */
export function sendHttpError(res: ServerResponse, error: HttpError): void {
  res.writeHead(error.status, {
    ...error.headers,
    'content-type': 'application/json; charset=utf-8',
  });
  const { message, extensions } = error;
  const code = error.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] }));
}

/**
 * What to tell a client whose request graphql-http could not read (`error`), where its
 * own message misleads: a POST body that is a JSON array, a batch of operations as some
 * clients send, is refused as "Missing query"; a query string whose `variables` or
 * `extensions` is not JSON, as "Unparsable URL".
 */
export function unreadable(
  { method, url, body }: { method: string; url: string; body: unknown },
  error: unknown,
): Error {
  if (method === 'POST') {
    if (typeof body === 'string' && /^\s*\[/.test(body)) {
      return new Error(
        'Batched requests (a JSON array of operations) are not supported: send one operation per request.',
      );
    }
  } else if (URL.canParse(url, 'http://localhost')) {
    const params = new URL(url, 'http://localhost').searchParams;
    for (const name of ['variables', 'extensions']) {
      const value = params.get(name);
      if (value === null) continue;
      try {
        JSON.parse(value);
      } catch {
        return new Error(`The "${name}" parameter of the query string is not valid JSON.`);
      }
    }
  }
  return error instanceof Error ? error : new Error('Invalid request');
}
