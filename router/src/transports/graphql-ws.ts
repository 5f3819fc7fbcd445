import { GraphQLError } from 'graphql';
import { makeServer } from 'graphql-ws';
import { ANONYMOUS, type Caller, type Credentials } from '../auth/caller.js';
import { isErrors, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { isRefusal, type Admission } from './admission.js';
import { CloseCode } from './close-codes.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';
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

export interface GraphQLWsOptions {
  core: RouterCore;
  logger: Logger;
  /** How long a client has to send connection_init (then 4408). */
  connectionInitTimeoutMs: number;
  /** Operations one connection may run at once. */
  operations: OperationLimit;
  /** Where a subscription takes its place under `maxSubscriptions`. */
  admission: Pick<Admission, 'subscription'>;
}

/**
 * The `graphql-transport-ws` protocol, through graphql-ws's own state machine (`makeServer`);
 * subscription results bypass it and go straight to the connection, framed around their JSON.
 */
export function graphqlWsProtocol({
  core,
  logger,
  connectionInitTimeoutMs,
  operations,
  admission,
}: GraphQLWsOptions): WebSocketProtocol {
  const server = makeServer<Record<string, unknown>, Extra>({
    schema: () => core.schema, // the supergraph served now, reloads included
    connectionInitWaitTimeout: connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      // graphql-ws calls this once per connection (a second connection_init is refused),
      // and the caller keeps what later requests need: the headers need not live on.
      const { headers = {} } = ctx.extra;
      ctx.extra.headers = undefined; // not `delete`, which would make the object a slow one
      const caller = await core.identify({ headers, connectionParams: ctx.connectionParams });
      if (caller instanceof GraphQLError) {
        // graphql-ws would close with 4403 on `false`; refused credentials are 4401.
        ctx.extra.connection.close(refusalCloseCode(caller), closeReason(caller.message));
        return false;
      }
      ctx.extra.caller = caller;
      return true;
    },
    onSubscribe: (ctx, id, payload) => {
      // Counted from the operations still running, this one included: graphql-ws forgets an
      // id at its `complete` while its query may still be running.
      if (ctx.extra.turns.running > operations.max) return [operations.refuse()];
      // graphql-ws acknowledges (and so takes subscribes) only after onConnect has set it.
      const prepared = core.prepare(payload, ctx.extra.caller ?? ANONYMOUS);
      if (isErrors(prepared)) return prepared;
      // graphql-ws always calls `subscribe` after this, so the place is given back by the
      // subscription's end.
      const release = prepared.subject ? admission.subscription() : undefined;
      if (isRefusal(release)) return [release];
      if (!prepared.subject) ctx.extra.turns.answering(id);
      return toExecutionArgs(
        prepared,
        connectionSink('graphql-ws', ctx.extra.connection, nextPrefix(id), release),
      );
    },
    execute: (args) => core.execute(fromExecutionArgs(args).prepared),
    subscribe: (args) => {
      const { prepared, sink } = fromExecutionArgs(args);
      return core.subscribe(prepared, sink!);
    },
  });
  return {
    opened(socket, connection, { headers }): ProtocolSession {
      const turns = new TakingTurns(socket, connection, core, logger);
      return {
        closed: server.opened(turns, { connection, turns, headers }),
        settled: () => turns.settled(),
      };
    },
  };
}

/** The `next` message of operation `id` up to its payload, which the result and `}` close. */
export function nextPrefix(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

/** What graphql-ws keeps per connection for us. */
interface Extra {
  readonly connection: Connection;
  readonly turns: TakingTurns;
  /** The upgrade request's, until `connection_init` is being identified. */
  headers: Credentials['headers'] | undefined;
  /** Set once `connection_init` has been accepted. */
  caller?: Caller;
}

/** What a client may send on graphql-transport-ws; the rest are the server's messages. */
const CLIENT_MESSAGES = new Set(['connection_init', 'ping', 'pong', 'subscribe', 'complete']);

/** Messages a connection may have waiting for their turn before it is closed. */
const MAX_WAITING = 1000;

/**
 * Feeds graphql-ws one message at a time where its state machine races. It sets up and
 * winds down a subscription across awaits, so `subscribe 1, complete 1, subscribe 1` sent at
 * once either left the first subscription running with nothing to end it (a leak, and
 * every event twice) or let the first one's clean-up delete the second (which then never
 * received anything). After a `subscribe` or a `complete` the next message waits until
 * that is done (it makes no I/O, so a turn of the event loop is enough); a `subscribe`
 * first waits for the router to have room for it in a turn. A `subscribe` that reuses the id
 * of an operation the client completed but that is still running (a query waiting for a
 * subgraph) waits until it has ended: graphql-ws would otherwise let the old one's clean-up
 * forget the new subscription, which then went on past every cap and the socket's close.
 * Once the socket is closing,
 * from either side, what still waits is dropped: it would set up subscriptions that
 * nobody ends. A `ping` or `pong` is answered or taken at once. A message that only
 * the server sends is malformed (4400): graphql-ws would throw on it, which reads as the
 * router failing. It is the socket graphql-ws sees, one per connection, so its methods are
 * on the prototype (closures made per connection cost memory for each).
 */
class TakingTurns implements ProtocolSocket {
  #turn: Promise<void> = Promise.resolve();
  #waiting = 0;
  /** Operations started and not yet ended, by id; made at the first subscribe. */
  #running: Map<string, Operation> | undefined;

  constructor(
    private readonly socket: ProtocolSocket,
    private readonly connection: Connection,
    private readonly core: Pick<RouterCore, 'turn'>,
    private readonly logger: Logger,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> | void {
    return this.socket.send(data);
  }

  close(code?: number, reason?: string): Promise<void> | void {
    return this.socket.close(code, reason);
  }

  onMessage(handler: (text: string) => Promise<void>): void {
    this.socket.onMessage((text) => this.next(text, handler));
  }

  /** Operations this connection has started and that have not ended. */
  get running(): number {
    return this.#running?.size ?? 0;
  }

  /** The operation under `id` is a query or a mutation: a stopping router waits for it. */
  answering(id: string): void {
    const operation = this.#running?.get(id);
    if (operation) operation.answering = true;
  }

  /** Settles once no query or mutation runs, those started while it waits included. */
  async settled(): Promise<void> {
    for (;;) {
      const answers = [...(this.#running?.values() ?? [])]
        .filter((operation) => operation.answering)
        .map((operation) => operation.ended);
      if (answers.length === 0) return;
      await Promise.all(answers);
    }
  }

  next(text: string, handler: (text: string) => Promise<void>): Promise<void> {
    const { type, id } = messageHead(text);
    if (type !== undefined && !CLIENT_MESSAGES.has(type)) {
      this.connection.close(CloseCode.BadRequest, 'Invalid message received');
      return Promise.resolve();
    }
    if (type === 'ping' || type === 'pong') return handler(text); // no state to race
    if (++this.#waiting > MAX_WAITING) {
      this.connection.close(CloseCode.BadRequest, 'Too many messages at once');
      return Promise.resolve();
    }
    let handled: Promise<void> | undefined;
    // A subscribe also waits for the router's turn (RouterCore.turn): one of a crowd.
    const turn =
      type === 'subscribe'
        ? this.#turn
            .then(() => this.#reused(id))
            .then(() => (this.connection.open ? this.core.turn() : undefined))
        : this.#turn;
    const started = turn.then(() => {
      this.#waiting--;
      if (!this.connection.open) return;
      // Registered before graphql-ws runs it, so that onSubscribe counts it.
      const operation = type === 'subscribe' && id !== undefined ? this.#starting(id) : undefined;
      handled = handler(text);
      if (operation) {
        const ended = (): void => this.#ended(id!, operation);
        operation.ended = handled.then(ended, ended);
      } else if (type === 'complete' && id !== undefined) this.#completed(id);
    });
    this.#turn =
      type === 'subscribe' || type === 'complete' ? started.then(() => this.#settled()) : started;
    return started.then(() => handled);
  }

  /**
   * Settles once a subscribe under `id` may go to graphql-ws: at once, unless the client
   * completed an operation under that id that is still running. One it did not complete
   * is left to graphql-ws, which refuses the subscribe (4409).
   */
  #reused(id: string | undefined): Promise<void> | undefined {
    const previous = id === undefined ? undefined : this.#running?.get(id);
    if (!previous?.completed) return undefined;
    this.logger.debug({ id }, 'a subscribe waits for the completed operation whose id it reuses');
    return previous.ended;
  }

  /** The operation a subscribe starts under `id`, unless one runs under it already. */
  #starting(id: string): Operation | undefined {
    const running = (this.#running ??= new Map());
    // graphql-ws refuses a subscribe whose id runs and is not completed: the socket closes.
    if (running.has(id)) return undefined;
    const operation: Operation = { completed: false, answering: false, ended: undefined };
    running.set(id, operation);
    return operation;
  }

  #completed(id: string): void {
    const operation = this.#running?.get(id);
    if (operation) operation.completed = true;
  }

  #ended(id: string, operation: Operation): void {
    if (this.#running?.get(id) === operation) this.#running.delete(id);
  }

  /** Resolves once what a message set off has settled: the next turn of the event loop. */
  #settled(): Promise<void> | undefined {
    return this.connection.open ? new Promise((resolve) => setImmediate(resolve)) : undefined;
  }
}

/** One operation of a connection, from its subscribe until graphql-ws is done with it. */
interface Operation {
  /** The client sent `complete` for it. */
  completed: boolean;
  /** A query or a mutation, not a subscription. */
  answering: boolean;
  /** Settles once graphql-ws is done with it; set as soon as graphql-ws has it. */
  ended: Promise<void> | undefined;
}

/**
 * The `type` and `id` of a message, where it is a JSON object that has them as strings;
 * graphql-ws checks the rest.
 */
function messageHead(text: string): { type?: string; id?: string } {
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: unknown } | null;
    return {
      ...(typeof message?.type === 'string' ? { type: message.type } : {}),
      ...(typeof message?.id === 'string' ? { id: message.id } : {}),
    };
  } catch {
    return {};
  }
}
