import type { GraphQLError } from 'graphql';
import { isErrors, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { isRefusal, type Admission } from './admission.js';
import type { OpenStreams } from './open-streams.js';
import { streamResults, type Framing, type StreamHandler } from './result-stream.js';

export interface MultipartTransportOptions {
  core: RouterCore;
  logger: Logger;
  /** Interval of the empty `{}` parts that keep an idle stream open. @default 5000 */
  heartbeatMs?: number | undefined;
  /** Where open subscriptions are registered, so that a stopping router can end them. */
  open?: OpenStreams | undefined;
  /** Where a subscription takes its place under `maxSubscriptions`. @default no cap */
  admission?: Pick<Admission, 'subscription'> | undefined;
}

/**
 * Apollo's multipart HTTP protocol for subscriptions (`Accept:
 * multipart/mixed;subscriptionSpec=1.0`): each result is a part `{"payload": result}`,
 * heartbeats are `{}` parts, an error that ends the stream is `{"payload": null,
 * "errors": [...]}`, and `--graphql--` closes it. A query or mutation is one part.
 * No maintained server library for Node's http does this, hence our own.
 */
export function createMultipartHandler({
  core,
  logger,
  heartbeatMs = 5_000,
  open,
  admission,
}: MultipartTransportOptions): StreamHandler {
  return async (req, res, request, caller) => {
    await core.turn(); // one of a crowd (RouterCore.turn)
    if (req.socket.destroyed) return; // gone while it waited: nothing to start
    const prepared = core.prepare(request, caller);
    const release = !isErrors(prepared) && prepared.subject ? admission?.subscription() : undefined;
    if (isErrors(prepared) || isRefusal(release)) {
      const errors = isErrors(prepared) ? prepared : [release as GraphQLError];
      // Errors before the stream are a GraphQL over HTTP response, as for a query; Apollo
      // Client reads `application/graphql-response+json` errors as GraphQL errors.
      const json = /application\/graphql-response\+json/i.test(req.headers.accept ?? '')
        ? 'application/graphql-response+json'
        : 'application/json';
      res.writeHead(400, { 'content-type': `${json}; charset=utf-8` });
      res.end(JSON.stringify({ errors }));
      return;
    }
    await streamResults(req, res, {
      core,
      prepared,
      framing: MULTIPART_FRAMING,
      transport: 'multipart',
      heartbeatMs,
      open,
      logger,
      release,
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
