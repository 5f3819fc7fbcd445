import {
  admitStream,
  streamResults,
  type Framing,
  type StreamHandler,
  type StreamTransportOptions,
} from './result-stream.js';

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
    // A browser's EventSource resends the last `id:` it saw when it reconnects: for a
    // stream-backed field that is the cursor to resume after.
    const lastEventId = req.headers['last-event-id'];
    const cursor = typeof lastEventId === 'string' ? lastEventId : undefined;
    const admitted = await admitStream(
      options,
      req,
      cursor && request.extensions?.['cursor'] === undefined
        ? { ...request, extensions: { ...request.extensions, cursor } }
        : request,
      caller,
    );
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
