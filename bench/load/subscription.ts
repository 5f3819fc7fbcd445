import { randomUUID } from 'node:crypto';
import { NextPayloads, type ServerMessage } from './next-payloads.js';
import { WsClient } from './ws-client.js';

export interface ConnectionOptions {
  url: string;
  /** Each `next` payload, with the time it arrived (`performance.now()`). */
  onNext(payload: unknown, at: number): void;
  /** The subscription ended: socket closed, `error` or `complete` from the server. */
  onEnd(reason: string): void;
  /** Reject if the server has not acknowledged the connection by then. */
  timeoutMs: number;
}

export interface SubscriptionOptions extends ConnectionOptions {
  query: string;
  variables: Record<string, unknown>;
}

/** The `subscribe` payload: `extensions.cursor` resumes a stream-backed subscription. */
export interface SubscribePayload {
  query: string;
  variables: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

export interface OpenSubscription {
  close(): void;
}

/** An acknowledged connection that carries at most one subscription, sent when asked. */
export interface OpenConnection extends OpenSubscription {
  subscribe(payload: SubscribePayload): void;
}

/** One for the load process: its subscribers share the payloads they receive. */
const messages = new NextPayloads();

/**
 * One WebSocket connection carrying one graphql-transport-ws subscription: a client just
 * large enough for the load process (thousands of them), with no retry and no keep-alive
 * of its own. Resolves once `subscribe` has been sent after `connection_ack`.
 */
export async function openSubscription(options: SubscriptionOptions): Promise<OpenSubscription> {
  const connection = await openConnection(options);
  connection.subscribe({ query: options.query, variables: options.variables });
  return connection;
}

/**
 * One WebSocket connection, resolved once the server has sent `connection_ack`; its one
 * subscription starts when `subscribe` is called (a resuming client reconnects first and
 * subscribes with its cursor when the run says so). `onEnd` only follows a `subscribe`.
 */
export function openConnection(options: ConnectionOptions): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    let acknowledged = false;
    let subscribed = false;
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      if (subscribed) options.onEnd(reason);
    };
    const onMessage = (data: Buffer): void => {
      const at = performance.now();
      const message: ServerMessage = messages.parse(data.toString());
      switch (message.type) {
        case 'next':
          return ended ? undefined : options.onNext(message.payload, at);
        case 'connection_ack':
          clearTimeout(timer);
          acknowledged = true;
          return resolve({
            subscribe: (payload) => {
              // A UUID, as graphql-ws clients make by default: no two subscribers' frames
              // start the same, so the server cannot share one frame between them.
              socket.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload }));
              subscribed = true;
            },
            close: () => ((ended = true), socket.close(1000)),
          });
        case 'ping':
          return socket.send('{"type":"pong"}');
        case 'error':
          return end(`error: ${JSON.stringify(message.payload)}`);
        case 'complete':
          return end('complete');
        default:
          return;
      }
    };
    const socket = new WsClient(options.url, 'graphql-transport-ws', {
      onOpen: () => socket.send('{"type":"connection_init"}'),
      onMessage,
      onClose: (code, reason) => {
        clearTimeout(timer);
        if (!acknowledged) reject(new Error(`closed before connection_ack: ${code} ${reason}`));
        end(`closed ${code} ${reason}`);
      },
    });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no connection_ack within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
  });
}
