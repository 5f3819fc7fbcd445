import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Caller, Credentials } from '../auth/caller.js';
import { isErrors, type GraphQLRequest, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { isRefusal, type Admission } from './admission.js';
import { CloseCode } from './close-codes.js';
import {
  closeReason,
  connectionSink,
  refusalCloseCode,
  type Connection,
  type OperationLimit,
  type ProtocolSession,
  type ProtocolSocket,
  type WebSocketProtocol,
} from './websocket-protocol.js';

/** The sub-protocol of subscriptions-transport-ws, the predecessor of graphql-ws. */
export const LEGACY_PROTOCOL = 'graphql-ws';

export interface LegacyWsOptions {
  core: RouterCore;
  logger: Logger;
  /** How long a client has to send `connection_init` (then 4408). */
  connectionInitTimeoutMs: number;
  /** Operations one connection may run at once. */
  operations: OperationLimit;
  /** Where a subscription takes its place under `maxSubscriptions`. */
  admission: Pick<Admission, 'subscription'>;
  /** Interval of the protocol's `ka` keep-alive messages. @default 12000 */
  keepAliveMs?: number;
}

type ClientMessage =
  | { type: 'connection_init'; payload?: unknown }
  | { type: 'connection_terminate' }
  | { type: 'start'; id: string; payload: GraphQLRequest }
  | { type: 'stop'; id: string };

/**
 * The legacy `subscriptions-transport-ws` protocol (sub-protocol `graphql-ws`), for clients
 * that never moved to graphql-transport-ws. Same core, same semantics, same connection
 * rules as graphql-ws (4400, 4401, 4408, 4409, 4429); its wire is `connection_init` →
 * `connection_ack` and `ka`; `start` → `data`… `complete`; `stop`.
 */
export function legacyWsProtocol(options: LegacyWsOptions): WebSocketProtocol {
  return {
    opened(socket, connection, { headers }) {
      const session = new LegacySession(socket, connection, headers, options);
      socket.onMessage((text) => session.receive(text));
      return session;
    },
  };
}

/** Messages a connection may have waiting for their turn before it is closed. */
const MAX_WAITING = 1000;

/** What stands for a query or mutation in its session while it runs: an object of its own. */
interface Running {
  readonly return?: undefined;
}

type Operation = AsyncIterator<ExecutionResult> | Running;

class LegacySession implements ProtocolSession {
  /** Operations by id: a subscription's lifetime, or a running query's or mutation's mark. */
  readonly #operations = new Map<string, Operation>();
  /**
   * Queries and mutations the client stopped that still run: they still load the subgraphs,
   * so they count under `maxSubscriptionsPerConnection` until they end, as on graphql-ws.
   */
  readonly #stopped = new Set<Running>();
  /** Queries and mutations running, stopped or not, each until its answer is sent. */
  readonly #answering = new Set<Promise<void>>();
  readonly #initTimeout: NodeJS.Timeout;
  /** Set once `connection_init` has been accepted. */
  #caller: Caller | undefined;
  #initialising = false;
  #closed = false;
  #keepAlive: NodeJS.Timeout | undefined;
  /**
   * Messages are handled one at a time, in order: the client sends `start` right after
   * `connection_init`, before the caller is identified.
   */
  #turn: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(
    private readonly socket: ProtocolSocket,
    private readonly connection: Connection,
    private readonly headers: Credentials['headers'],
    private readonly options: LegacyWsOptions,
  ) {
    // As graphql-ws: a client that sent `connection_init` in time is not cut off while its
    // credentials are being checked (a JWKS fetch may take longer than the timeout).
    this.#initTimeout = setTimeout(() => {
      if (!this.#initialising) {
        socket.close(
          CloseCode.ConnectionInitialisationTimeout,
          'Connection initialisation timeout',
        );
      }
    }, options.connectionInitTimeoutMs);
  }

  receive(text: string): Promise<void> {
    if (++this.#waiting > MAX_WAITING) {
      this.socket.close(CloseCode.BadRequest, 'Too many messages at once');
      return Promise.resolve();
    }
    const handled = this.#turn.then(() => {
      this.#waiting--;
      return this.#ended ? undefined : this.#handle(text);
    });
    // A failure closes the socket (the adapter sees it through `handled`); no turn waits on it.
    this.#turn = handled.catch(() => {});
    return handled;
  }

  async #handle(text: string): Promise<void> {
    const message = parseMessage(text);
    if (!message) return void this.socket.close(CloseCode.BadRequest, 'Invalid message received');
    switch (message.type) {
      case 'connection_init':
        return this.#init(message.payload);
      case 'connection_terminate':
        return void this.socket.close(1000, 'Normal closure');
      case 'stop':
        return this.#stop(message.id);
      case 'start':
        if (!this.#caller) return void this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
        await this.options.core.turn(); // one of a crowd (RouterCore.turn)
        if (this.#ended) return;
        // After the turn: two starts of one id in a batch would both pass a check before it.
        if (this.#operations.has(message.id)) {
          return void this.socket.close(
            CloseCode.SubscriberAlreadyExists,
            `Subscriber for ${message.id} already exists`,
          );
        }
        try {
          return this.#start(message.id, message.payload, this.#caller);
        } catch (error) {
          // The id was free, so what is under it now is this start's.
          const started = this.#operations.get(message.id);
          void started?.return?.();
          return this.#failed(message.id, started, error);
        }
    }
  }

  async #init(payload: unknown): Promise<void> {
    if (this.#initialising) {
      return void this.socket.close(
        CloseCode.TooManyInitialisationRequests,
        'Too many initialisation requests',
      );
    }
    this.#initialising = true;
    const params = typeof payload === 'object' && payload !== null ? payload : undefined;
    const caller = await this.options.core.identify({
      headers: this.headers,
      connectionParams: params as Record<string, unknown> | undefined,
    });
    if (this.#ended) return;
    clearTimeout(this.#initTimeout);
    if (caller instanceof GraphQLError) {
      // The protocol's refusal, then the close code graphql-ws uses for it.
      this.#send({ type: 'connection_error', payload: caller.toJSON() });
      return void this.socket.close(refusalCloseCode(caller), closeReason(caller.message));
    }
    this.#caller = caller;
    this.#send({ type: 'connection_ack' });
    this.#send({ type: 'ka' });
    this.#keepAlive = setInterval(
      () => this.#send({ type: 'ka' }),
      this.options.keepAliveMs ?? 12_000,
    );
  }

  async settled(): Promise<void> {
    // Those started while it waits too: the router closes the socket only once none runs.
    while (this.#answering.size > 0) await Promise.all(this.#answering);
  }

  /** The socket has closed: every operation ends. */
  closed(): void {
    this.#closed = true;
    clearTimeout(this.#initTimeout);
    clearInterval(this.#keepAlive);
    for (const iterator of this.#operations.values()) void iterator?.return?.();
    this.#operations.clear();
    this.#stopped.clear();
  }

  #start(id: string, payload: GraphQLRequest, caller: Caller): void {
    const { core, operations } = this.options;
    if (this.#operations.size + this.#stopped.size >= operations.max) {
      return this.#send({ type: 'error', id, payload: [operations.refuse().toJSON()] });
    }
    const prepared = core.prepare(payload, caller);
    if (isErrors(prepared)) {
      return this.#send({
        type: 'error',
        id,
        payload: prepared.map((e: GraphQLError) => e.toJSON()),
      });
    }
    if (!prepared.subject) {
      const running: Running = {};
      this.#operations.set(id, running);
      const answered = core
        .execute(prepared)
        .then((result) => {
          if (!this.#end(id, running)) return;
          this.#send({ type: 'data', id, payload: result });
          this.#send({ type: 'complete', id });
        })
        .catch((error: unknown) => this.#failed(id, running, error))
        .finally(() => {
          this.#stopped.delete(running);
          this.#answering.delete(answered);
        });
      this.#answering.add(answered);
      return;
    }
    const release = this.options.admission.subscription();
    if (isRefusal(release)) return this.#send({ type: 'error', id, payload: [release.toJSON()] });
    const frameStart = `{"type":"data","id":${JSON.stringify(id)},"payload":`;
    const lifetime = core.subscribe(
      prepared,
      connectionSink('legacy-ws', this.connection, frameStart, release),
    );
    this.#operations.set(id, lifetime);
    void lifetime
      .next() // settles when the subscription ends
      .then(() => {
        if (this.#end(id, lifetime)) this.#send({ type: 'complete', id });
      })
      .catch((error: unknown) => this.#failed(id, lifetime, error));
  }

  /**
   * Forgets `operation` if it is still the one under `id`: not if it was stopped or the
   * socket closed, and above all not if a later operation took its id, which would then
   * run on with nothing left to stop it. Returns whether it was there.
   */
  #end(id: string, operation: Operation | undefined): boolean {
    if (this.#operations.get(id) !== operation) return false;
    this.#operations.delete(id);
    return true;
  }

  #stop(id: string): void {
    const operation = this.#operations.get(id);
    this.#operations.delete(id);
    if (operation && !('next' in operation)) this.#stopped.add(operation);
    void operation?.return?.();
  }

  #failed(id: string, operation: Operation | undefined, error: unknown): void {
    this.options.logger.error({ err: error }, 'legacy WebSocket operation failed');
    if (this.#end(id, operation)) {
      this.#send({ type: 'error', id, payload: [{ message: 'Unexpected error.' }] });
    }
  }

  /**
   * Whether the socket is closing or closed, from either side: what still waits is dropped,
   * for it would set up operations that nobody ends.
   */
  get #ended(): boolean {
    return this.#closed || !this.connection.open;
  }

  #send(message: object): void {
    if (!this.#closed) void this.socket.send(JSON.stringify(message));
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
      return typeof message.id === 'string' && isRequest(message.payload)
        ? (message as ClientMessage)
        : undefined;
    default:
      return undefined;
  }
}

/** The shape graphql-ws also requires of a request: wrong types are a malformed message. */
function isRequest(payload: unknown): payload is GraphQLRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const { query, variables, operationName, extensions } = payload as Record<string, unknown>;
  const isMap = (value: unknown): boolean =>
    value == null || (typeof value === 'object' && !Array.isArray(value));
  return (
    typeof query === 'string' &&
    isMap(variables) &&
    isMap(extensions) &&
    (operationName == null || typeof operationName === 'string')
  );
}
