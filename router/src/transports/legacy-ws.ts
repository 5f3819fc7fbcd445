import type { ExecutionResult, GraphQLError } from 'graphql';
import type { WebSocket, WebSocketServer } from 'ws';
import { isErrors, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { CloseCode } from './close-codes.js';

/** The sub-protocol of subscriptions-transport-ws, the predecessor of graphql-ws. */
export const LEGACY_PROTOCOL = 'graphql-ws';

export interface LegacyWsOptions {
  core: RouterCore;
  wss: WebSocketServer;
  logger: Logger;
  /** Interval of the protocol's `ka` keep-alive messages. @default 12000 */
  keepAliveMs?: number;
  /** How long a client has to send `connection_init`. @default 3000 */
  connectionInitWaitTimeoutMs?: number;
}

type ClientMessage =
  | { type: 'connection_init'; payload?: unknown }
  | { type: 'connection_terminate' }
  | {
      type: 'start';
      id: string;
      payload: {
        query?: string;
        variables?: Record<string, unknown> | null;
        operationName?: string | null;
      };
    }
  | { type: 'stop'; id: string };

/**
 * The legacy `subscriptions-transport-ws` protocol (sub-protocol `graphql-ws`), for clients
 * that never moved to graphql-transport-ws. Same core, same semantics; its wire is
 * `connection_init` → `connection_ack` and `ka`; `start` → `data`… `complete`; `stop`.
 */
export function serveLegacyWs(options: LegacyWsOptions): void {
  options.wss.on('connection', (socket: WebSocket) => new LegacyConnection(socket, options));
}

class LegacyConnection {
  readonly #operations = new Map<string, AsyncIterator<ExecutionResult>>();
  #initialised = false;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: LegacyWsOptions,
  ) {
    const initTimeout = setTimeout(() => {
      if (!this.#initialised)
        socket.close(
          CloseCode.ConnectionInitialisationTimeout,
          'Connection initialisation timeout',
        );
    }, options.connectionInitWaitTimeoutMs ?? 3000);
    socket.on('message', (data, isBinary) => this.#receive(isBinary ? '' : String(data)));
    socket.once('close', () => {
      clearTimeout(initTimeout);
      clearInterval(this.#keepAlive);
      for (const iterator of this.#operations.values()) void iterator.return?.();
      this.#operations.clear();
    });
  }

  #receive(text: string): void {
    const message = parseMessage(text);
    if (!message) {
      this.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case 'connection_init':
        if (this.#initialised)
          return this.socket.close(
            CloseCode.TooManyInitialisationRequests,
            'Too many initialisation requests',
          );
        this.#initialised = true;
        this.#send({ type: 'connection_ack' });
        this.#send({ type: 'ka' });
        this.#keepAlive = setInterval(
          () => this.#send({ type: 'ka' }),
          this.options.keepAliveMs ?? 12_000,
        );
        return;
      case 'connection_terminate':
        return this.socket.close(1000, 'Normal closure');
      case 'stop':
        return this.#stop(message.id);
      case 'start':
        if (!this.#initialised) return this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
        this.#stop(message.id);
        void this.#start(message.id, message.payload).catch((error: unknown) => {
          this.options.logger.error({ err: error }, 'legacy WebSocket operation failed');
          this.#send({
            type: 'error',
            id: message.id,
            payload: [{ message: 'Unexpected error.' }],
          });
        });
    }
  }

  async #start(
    id: string,
    payload: Extract<ClientMessage, { type: 'start' }>['payload'],
  ): Promise<void> {
    const { core } = this.options;
    const prepared = core.prepare(payload);
    if (isErrors(prepared)) {
      this.#send({ type: 'error', id, payload: prepared.map((e: GraphQLError) => e.toJSON()) });
      return;
    }
    if (!prepared.subject) {
      const result = await core.execute(prepared);
      if (this.socket.readyState !== this.socket.OPEN) return;
      this.#send({ type: 'data', id, payload: result });
      this.#send({ type: 'complete', id });
      return;
    }
    const frameStart = `{"type":"data","id":${JSON.stringify(id)},"payload":`;
    const lifetime = core.subscribe(prepared, {
      write: (json, written) => this.socket.send(`${frameStart}${json}}`, () => written()),
      isBackedUp: () => this.socket.bufferedAmount > 0,
      tooSlow: () => this.socket.close(CloseCode.TryAgainLater, 'Subscriber too slow'),
    });
    this.#operations.set(id, lifetime);
    await lifetime.next(); // finishes when the subscription ends
    if (this.#operations.get(id) === lifetime) {
      this.#operations.delete(id);
      this.#send({ type: 'complete', id });
    }
  }

  #stop(id: string): void {
    const iterator = this.#operations.get(id);
    this.#operations.delete(id);
    void iterator?.return?.();
  }

  #send(message: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

function parseMessage(text: string): ClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as { type?: unknown; id?: unknown; payload?: unknown };
  switch (message.type) {
    case 'connection_init':
    case 'connection_terminate':
      return message as ClientMessage;
    case 'stop':
      return typeof message.id === 'string' ? (message as ClientMessage) : undefined;
    case 'start':
      return typeof message.id === 'string' &&
        typeof message.payload === 'object' &&
        message.payload !== null
        ? (message as ClientMessage)
        : undefined;
    default:
      return undefined;
  }
}
