import {
  admitStream,
  streamResults,
  type Framing,
  type StreamHandler,
  type StreamTransportOptions,
} from './result-stream.js';
import type { GraphQLError } from 'graphql';
import { isCursor } from '../events/cursor.js';

/**
 * GraphQL over Server-Sent Events, the graphql-sse protocol's "distinct connections mode":
 * one `GET` or `POST` with `Accept: text/event-stream` per operation, answered by `next`
 * events and one `complete`; the client ends a subscription by closing the connection.
 * Comment lines every `heartbeatMs` (12 s by default) keep an idle stream open.
 *
 * Our own, not graphql-sse's handler: that one has a fixed 12 s heartbeat, writes no
 * `id:` lines, reads bodies without a size limit, and needs the Accept header to be
 * exactly `text/event-stream`.
 */
export function createSseHandler(options: StreamTransportOptions): StreamHandler {
  const { heartbeatMs = 12_000 } = options;
  return async (req, res, request, caller) => {
    // A browser's EventSource resends the last `id:` it saw when it reconnects, and the URL
    // it first opened. Ids are cursors (the framing writes no other), so the id is the later
    // position and wins over a cursor in the URL. Anything else in the header is not a
    // position: another server's event numbers, say, which an `INVALID_CURSOR` would refuse
    // on every reconnect, for good.
    const lastEventId = req.headers['last-event-id'];
    const cursor = isCursor(lastEventId) ? lastEventId : undefined;
    let admitted = await admitStream(
      options,
      req,
      cursor ? { ...request, extensions: { ...request.extensions, cursor } } : request,
      caller,
    );
    // One of another stream (a reload bound the field to another since) would be refused on
    // every reconnect too: the request goes as it came.
    if (cursor && admitted && 'errors' in admitted && wrongStream(admitted.errors)) {
      admitted = await admitStream(options, req, request, caller);
    }
    if (!admitted) return;
    const framing = sseFraming();
    if ('errors' in admitted) {
      // The protocol reports errors found before execution as a `next` event in an
      // accepted stream: an HTTP error would only make clients (EventSource, graphql-sse)
      // retry without showing why.
      res.writeHead(200, framing.headers);
      res.end(
        framing.open + framing.result(JSON.stringify({ errors: admitted.errors })) + framing.close,
      );
      return;
    }
    await streamResults(req, res, {
      ...options,
      ...admitted,
      framing,
      transport: 'sse',
      heartbeatMs,
    });
  };
}

/**
 * `event:` and `data:` as graphql-sse writes them, comment heartbeats, and an `id:` line on
 * each result of a stream-backed field: its cursor, which a later `Last-Event-ID` resumes
 * after. Other events carry no id, so an `EventSource` keeps the last cursor it got: an id
 * on an error (a refusal to try again later, say) would replace it, and the reconnect
 * would miss the events since.
 */
export function sseFraming(): Framing {
  const event = (name: string, data: string, cursor?: string): string =>
    `${cursor !== undefined ? `id: ${cursor}\n` : ''}event: ${name}\ndata:${data ? ` ${data}` : ''}\n\n`;
  return {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // nginx and some other proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    },
    open: ':\n\n',
    heartbeat: ':\n\n',
    result: (json, cursor) => event('next', json, cursor),
    fatal: (errors) => event('next', JSON.stringify({ errors })),
    // An empty `data:` field, or EventSource does not dispatch the event.
    close: event('complete', ''),
  };
}

function wrongStream(errors: readonly GraphQLError[]): boolean {
  return errors.some((error) => error.extensions['code'] === 'CURSOR_WRONG_STREAM');
}
