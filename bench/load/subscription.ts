import WebSocket from 'ws';

export interface SubscriptionOptions {
  url: string;
  query: string;
  variables: Record<string, unknown>;
  /** Each `next` payload, with the time it arrived (`performance.now()`). */
  onNext(payload: unknown, at: number): void;
  /** The subscription ended: socket closed, `error` or `complete` from the server. */
  onEnd(reason: string): void;
  /** Reject if the server has not acknowledged the connection by then. */
  timeoutMs: number;
}

export interface OpenSubscription {
  close(): void;
}

interface ServerMessage {
  type?: string;
  payload?: unknown;
}

/**
 * One WebSocket connection carrying one graphql-transport-ws subscription: a client just
 * large enough for the load process (thousands of them), with no retry and no keep-alive
 * of its own. Resolves once `subscribe` has been sent after `connection_ack`.
 */
export function openSubscription(options: SubscriptionOptions): Promise<OpenSubscription> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(options.url, 'graphql-transport-ws', { perMessageDeflate: false });
    let subscribed = false;
    let ended = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no connection_ack within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      if (subscribed) options.onEnd(reason);
    };
    socket.on('open', () => socket.send('{"type":"connection_init"}'));
    socket.on('message', (data) => {
      const at = performance.now();
      const message = JSON.parse(String(data)) as ServerMessage;
      switch (message.type) {
        case 'next':
          return options.onNext(message.payload, at);
        case 'connection_ack':
          clearTimeout(timer);
          socket.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: { query: options.query, variables: options.variables },
            }),
          );
          subscribed = true;
          return resolve({ close: () => ((ended = true), socket.close(1000)) });
        case 'ping':
          return socket.send('{"type":"pong"}');
        case 'error':
          return end(`error: ${JSON.stringify(message.payload)}`);
        case 'complete':
          return end('complete');
        default:
          return;
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (!subscribed) reject(error);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      if (!subscribed) reject(new Error(`closed before connection_ack: ${code} ${String(reason)}`));
      end(`closed ${code} ${String(reason)}`);
    });
  });
}
