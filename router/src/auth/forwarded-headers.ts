import { GraphQLError } from 'graphql';
import { type Caller, type Credentials, type Identify } from './caller.js';

/**
 * Headers a router must not forward: they describe one hop (the client's connection to the
 * router), not the caller, and a wrong one breaks or smuggles the subgraph request.
 */
export const UNFORWARDABLE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'expect',
  'host',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'traceparent',
  'tracestate',
]);

/** The longest value forwarded, in characters; a longer one refuses the request. */
export const MAX_FORWARDED_VALUE = 8192;

/** Visible ASCII, space and tab: what an HTTP field value may hold (RFC 9110 5.5), no CR/LF/NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Adds the request headers named in `names` (lower case, in config order) to each caller
 * `identify` gives, as `forwardedHeaders`. On a WebSocket a string under the same name
 * (any case) in the `connection_init` payload wins over the upgrade request's header,
 * since browsers cannot set headers on an upgrade. A value that is not a valid header
 * value, or is longer than `MAX_FORWARDED_VALUE`, refuses the request (`BAD_REQUEST`)
 * rather than reach a subgraph changed.
 */
export function forwardHeaders(identify: Identify, names: readonly string[]): Identify {
  if (names.length === 0) return identify;
  return async (credentials) => {
    const caller = await identify(credentials);
    if (caller instanceof GraphQLError) return caller;
    const forwarded: Record<string, string> = {};
    for (const name of names) {
      const value = forwardedValue(credentials, name);
      if (value === undefined) continue;
      if (value.length > MAX_FORWARDED_VALUE || !FIELD_VALUE.test(value)) {
        return new GraphQLError(
          `The "${name}" header cannot be forwarded: at most ${MAX_FORWARDED_VALUE} visible ASCII characters.`,
          { extensions: { code: 'BAD_REQUEST' } },
        );
      }
      forwarded[name] = value;
    }
    if (Object.keys(forwarded).length === 0) return caller;
    return { ...caller, forwardedHeaders: Object.freeze(forwarded) } satisfies Caller;
  };
}

function forwardedValue(credentials: Credentials, name: string): string | undefined {
  const params = credentials.connectionParams;
  if (params) {
    for (const [key, value] of Object.entries(params)) {
      if (key.toLowerCase() === name && typeof value === 'string') return value;
    }
  }
  const header = credentials.headers[name];
  if (header === undefined) return undefined;
  return typeof header === 'string' ? header : header.join(', ');
}

/**
 * A stable text for forwarded headers: callers whose texts differ never share a fan-out
 * group or an entity batch. Only `forwardHeaders` fills them, in config order, so the same
 * values always give the same text; nothing forwarded is always `{}`.
 */
export function forwardedKey(headers: Readonly<Record<string, string>>): string {
  return JSON.stringify(headers);
}
