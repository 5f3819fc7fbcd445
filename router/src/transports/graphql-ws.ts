import { GraphQLError } from 'graphql';
import { makeServer } from 'graphql-ws';
import { ANONYMOUS, type Caller, type Credentials } from '../auth/caller.js';
import { isErrors, type RouterCore } from '../core.js';
import { isRefusal, type Admission } from './admission.js';
import { CloseCode } from './close-codes.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';
import {
  closeReason,
  connectionSink,
  refusalCloseCode,
  type Connection,
  type OperationLimit,
  type ProtocolSocket,
  type WebSocketProtocol,
} from './websocket-protocol.js';

export interface GraphQLWsOptions {
  core: RouterCore;
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
      // graphql-ws has registered this id already, so it counts itself.
      if (Object.keys(ctx.subscriptions).length > operations.max) return [operations.refuse()];
      // graphql-ws acknowledges (and so takes subscribes) only after onConnect has set it.
      const prepared = core.prepare(payload, ctx.extra.caller ?? ANONYMOUS);
      if (isErrors(prepared)) return prepared;
      // graphql-ws always calls `subscribe` after this, so the place is given back by the
      // subscription's end.
      const release = prepared.subject ? admission.subscription() : undefined;
      if (isRefusal(release)) return [release];
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
    opened(socket, connection, { headers }) {
      return server.opened(new TakingTurns(socket, connection, core), { connection, headers });
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
 * first waits for the router to have room for it in a turn. Once the socket is closing,
 * from either side, what still waits is dropped: it would set up subscriptions that
 * nobody ends. A `ping` or `pong` is answered or taken at once. A message that only
 * the server sends is malformed (4400): graphql-ws would throw on it, which reads as the
 * router failing. It is the socket graphql-ws sees, one per connection, so its methods are
 * on the prototype (closures made per connection cost memory for each).
 */
class TakingTurns implements ProtocolSocket {
  #turn: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(
    private readonly socket: ProtocolSocket,
    private readonly connection: Connection,
    private readonly core: Pick<RouterCore, 'turn'>,
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

  next(text: string, handler: (text: string) => Promise<void>): Promise<void> {
    const type = messageType(text);
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
        ? this.#turn.then(() => (this.connection.open ? this.core.turn() : undefined))
        : this.#turn;
    const started = turn.then(() => {
      this.#waiting--;
      if (this.connection.open) handled = handler(text);
    });
    this.#turn =
      type === 'subscribe' || type === 'complete' ? started.then(() => this.#settled()) : started;
    return started.then(() => handled);
  }

  /** Resolves once what a message set off has settled: the next turn of the event loop. */
  #settled(): Promise<void> | undefined {
    return this.connection.open ? new Promise((resolve) => setImmediate(resolve)) : undefined;
  }
}

/** The `type` of a message, if it is a JSON object that has one; graphql-ws checks the rest. */
function messageType(text: string): string | undefined {
  try {
    const message: unknown = JSON.parse(text);
    const type = (message as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
