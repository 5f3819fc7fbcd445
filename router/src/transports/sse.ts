import type { GraphQLError } from 'graphql';
import { isErrors, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { isRefusal, type Admission } from './admission.js';
import type { OpenStreams } from './open-streams.js';
import { streamResults, type Framing, type StreamHandler } from './result-stream.js';

export interface SseTransportOptions {
  core: RouterCore;
  logger: Logger;
  /** Interval of the comment lines that keep an idle stream open through proxies. @default 12000 */
  heartbeatMs?: number | undefined;
  /** Where open subscriptions are registered, so that a stopping router can end them. */
  open?: OpenStreams | undefined;
  /** Where a subscription takes its place under `maxSubscriptions`. @default no cap */
  admission?: Pick<Admission, 'subscription'> | undefined;
}

/**
 * GraphQL over Server-Sent Events, the graphql-sse protocol's "distinct connections mode":
 * one `GET` or `POST` with `Accept: text/event-stream` per operation, answered by `next`
 * events and one `complete`; the client ends a subscription by closing the connection.
 *
 * Our own, not graphql-sse's handler: that one has a fixed 12 s heartbeat, writes no
 * `id:` lines, reads bodies without a size limit, and needs the Accept header to be
 * exactly `text/event-stream`.
 */
export function createSseHandler({
  core,
  logger,
  heartbeatMs = 12_000,
  open,
  admission,
}: SseTransportOptions): StreamHandler {
  return async (req, res, request, caller) => {
    await core.turn(); // one of a crowd (RouterCore.turn)
    if (req.socket.destroyed) return; // gone while it waited: nothing to start
    // A browser's EventSource resends the last `id:` it saw when it reconnects: for a
    // stream-backed field that is the cursor to resume after.
    const lastEventId = req.headers['last-event-id'];
    const cursor = typeof lastEventId === 'string' ? lastEventId : undefined;
    const prepared = core.prepare(
      cursor && request.extensions?.['cursor'] === undefined
        ? { ...request, extensions: { ...request.extensions, cursor } }
        : request,
      caller,
    );
    const framing = sseFraming();
    const release = !isErrors(prepared) && prepared.subject ? admission?.subscription() : undefined;
    if (isErrors(prepared) || isRefusal(release)) {
      const errors = isErrors(prepared) ? prepared : [release as GraphQLError];
      // The protocol reports errors found before execution as a `next` event in an
      // accepted stream: an HTTP error would only make clients (EventSource, graphql-sse)
      // retry without showing why.
      res.writeHead(200, framing.headers);
      res.end(framing.open + framing.result(JSON.stringify({ errors })) + framing.close);
      return;
    }
    await streamResults(req, res, {
      core,
      prepared,
      framing,
      transport: 'sse',
      heartbeatMs,
      open,
      logger,
      release,
    });
  };
}

/**
 * `event:` and `data:` as graphql-sse writes them, plus an `id:` per event and comment
 * heartbeats. For a stream-backed field the id is the result's cursor, which a later
 * `Last-Event-ID` resumes after; otherwise it numbers the events of this connection.
 */
export function sseFraming(): Framing {
  let id = 0;
  let cursors = false;
  const event = (name: string, data: string, cursor?: string): string => {
    cursors ||= cursor !== undefined;
    // Once ids are cursors, an event without one sends no id: EventSource keeps the last.
    const idLine = cursor !== undefined ? `id: ${cursor}\n` : cursors ? '' : `id: ${++id}\n`;
    return `${idLine}event: ${name}\ndata:${data ? ` ${data}` : ''}\n\n`;
  };
  return {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx and some other proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    },
    open: ':\n\n',
    heartbeat: ':\n\n',
    result: (json, cursor) => event('next', json, cursor),
    fatal: (errors) => event('next', JSON.stringify({ errors })),
    get close() {
      // An empty `data:` field, or EventSource does not dispatch the event.
      return event('complete', '');
    },
  };
}
