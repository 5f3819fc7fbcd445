import WebSocket from 'ws';

export type WsProtocol = 'graphql-transport-ws' | 'graphql-ws';

/** A message the router sent, parsed. */
export interface WsMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

/**
 * A WebSocket speaking either GraphQL protocol by hand, to see exactly what the router
 * sends and with which code it closes. Every message is kept; `next` waits for one.
 */
export class RawSocket {
  readonly messages: WsMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #socket: WebSocket;
  readonly #waiting: (() => void)[] = [];
  #read = 0;

  constructor(url: string, protocol: WsProtocol, headers: Record<string, string> = {}) {
    this.#socket = new WebSocket(url.replace(/^http/, 'ws'), protocol, { headers });
    this.#socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as WsMessage);
      this.#wake();
    });
    this.#socket.on('error', () => {}); // a refused upgrade shows as the close below
    this.closed = new Promise((resolve) =>
      this.#socket.once('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        this.#wake();
      }),
    );
  }

  /** Sends once open. */
  async send(message: unknown): Promise<void> {
    if (this.#socket.readyState === WebSocket.CONNECTING) {
      await new Promise((resolve) => this.#socket.once('open', resolve));
    }
    this.#socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message not read yet, other than keep-alives; `undefined` once closed. */
  async next(): Promise<WsMessage | undefined> {
    for (;;) {
      while (this.#read < this.messages.length) {
        const message = this.messages[this.#read++]!;
        if (message.type !== 'ka' && message.type !== 'ping' && message.type !== 'pong')
          return message;
      }
      if (this.#socket.readyState === WebSocket.CLOSED) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  /** The first message of `type`, keep-alives included, once it came; `undefined` if closed. */
  async first(type: string): Promise<WsMessage | undefined> {
    for (;;) {
      const found = this.messages.find((message) => message.type === type);
      if (found) return found;
      if (this.#socket.readyState === WebSocket.CLOSED) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  /** connection_init with `payload`, then the router's answer (ack, error, or the close). */
  async init(payload?: unknown): Promise<WsMessage | undefined> {
    await this.send(
      payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload },
    );
    return this.next();
  }

  /** Starts an operation: `subscribe` or, on the legacy protocol, `start`. */
  subscribe(protocol: WsProtocol, id: string, query: string, variables?: Record<string, unknown>) {
    return this.send({
      id,
      type: protocol === 'graphql-ws' ? 'start' : 'subscribe',
      payload: { query, ...(variables ? { variables } : {}) },
    });
  }

  close(): void {
    this.#socket.close();
  }

  #wake(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}
