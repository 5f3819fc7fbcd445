import type { GraphQLError } from 'graphql';
import {
  admitStream,
  streamResults,
  type Framing,
  type StreamHandler,
  type StreamTransportOptions,
} from './result-stream.js';

/**
 * Apollo's multipart HTTP protocol for subscriptions (`Accept:
 * multipart/mixed;subscriptionSpec=1.0`): each result is a part `{"payload": result}`,
 * heartbeats are `{}` parts (every `heartbeatMs`, 5 s by default), an error that ends the
 * stream is `{"payload": null, "errors": [...]}`, and `--graphql--` closes it. A query or
 * mutation is one part. No maintained server library for Node's http does this, hence our own.
 */
export function createMultipartHandler(options: StreamTransportOptions): StreamHandler {
  const { heartbeatMs = 5_000 } = options;
  return async (req, res, request, caller) => {
    const admitted = await admitStream(options, req, request, caller);
    if (!admitted) return;
    if ('errors' in admitted) {
      // Errors before the stream are a GraphQL over HTTP response, as for a query; Apollo
      // Client reads `application/graphql-response+json` errors as GraphQL errors.
      const json = /application\/graphql-response\+json/i.test(req.headers.accept ?? '')
        ? 'application/graphql-response+json'
        : 'application/json';
      res.writeHead(400, { 'content-type': `${json}; charset=utf-8` });
      res.end(JSON.stringify({ errors: admitted.errors }));
      return;
    }
    await streamResults(req, res, {
      ...options,
      ...admitted,
      framing: MULTIPART_FRAMING,
      transport: 'multipart',
      heartbeatMs,
    });
  };
}

const BOUNDARY = 'graphql';

/**
 * Each part is written with the delimiter that ends it, so a client sees a part as soon
 * as it arrives rather than when the next one starts the following delimiter.
 */
const part = (json: string): string =>
  `\r\nContent-Type: application/json\r\n\r\n${json}\r\n--${BOUNDARY}`;

export const MULTIPART_FRAMING: Framing = {
  headers: {
    'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  },
  // A first heartbeat, as Apollo Router sends, shows the client the stream is open.
  open: `\r\n--${BOUNDARY}${part('{}')}`,
  heartbeat: part('{}'),
  result: (json) => part(`{"payload":${json}}`),
  fatal: (errors: readonly GraphQLError[]) => part(JSON.stringify({ payload: null, errors })),
  close: '--\r\n',
};
