import type { WebSocket as ProtocolSocket } from 'graphql-ws';
import type { GraphQLError } from 'graphql';
import type { Credentials } from '../auth/caller.js';
import { isKeysUnavailable } from '../auth/jwt.js';
import type { SubscriptionSink } from '../core.js';
import type { TransportName } from '../instrumentation.js';
import { CloseCode } from './close-codes.js';

export type { ProtocolSocket };

/**
 * One client's WebSocket as the protocols see it beyond graphql-ws's minimal socket: what
 * subscription results need to go straight to the wire. The `ws` adapter implements it.
 */
export interface Connection {
  /**
   * Sends the text message `${prefix}${json}}`, where `json` is one result handed to every
   * subscriber of its group (the same string) and `prefix` is this operation's; `written`
   * runs once the OS has taken it, or the socket closed.
   */
  write(prefix: string, json: string, written: () => void): void;
  /** Whether the OS has not taken everything sent so far. */
  isBackedUp(): boolean;
  /** Whether the socket is open: false once either side has started to close it. */
  readonly open: boolean;
  close(code: number, reason: string): void;
}

/**
 * A WebSocket sub-protocol as a state machine over a minimal socket, the way graphql-ws's
 * `makeServer` is one: the adapter calls `opened` per connection, feeds it messages through
 * `socket.onMessage`, and tells the session it returns once the socket has closed.
 * `upgrade` holds the upgrade request's headers, which identify the caller together with
 * the `connection_init` payload.
 */
export interface WebSocketProtocol {
  opened(
    socket: ProtocolSocket,
    connection: Connection,
    upgrade: Pick<Credentials, 'headers'>,
  ): ProtocolSession;
}

/** One connection's state, as the adapter needs it. */
export interface ProtocolSession {
  /** The socket has closed: every operation ends. */
  closed(code?: number, reason?: string): Promise<void> | void;
  /**
   * Settles once no query or mutation of the connection runs (at once if none does): a
   * stopping router lets them answer before it closes the socket.
   */
  settled(): Promise<void>;
}

export type { OperationLimit } from './admission.js';

/**
 * Writes one subscription's results to the connection, each framed as
 * `${frameStart}${result}}`: the result is serialized once per group, only the frame differs.
 * `closed` runs once when the subscription ends (its place under `maxSubscriptions`).
 */
export function connectionSink(
  transport: TransportName,
  connection: Connection,
  frameStart: string,
  closed?: () => void,
): SubscriptionSink {
  return new ConnectionSink(transport, connection, frameStart, closed);
}

/**
 * One per open subscription, so its methods live on the prototype: closures made per
 * subscription cost memory for each of them (tsx's `keepNames` gives each named one a
 * property table of its own, some 300 bytes).
 */
class ConnectionSink implements SubscriptionSink {
  declare readonly closed?: () => void;

  constructor(
    readonly transport: TransportName,
    private readonly connection: Connection,
    private readonly frameStart: string,
    closed?: () => void,
  ) {
    if (closed) this.closed = closed;
  }

  write(json: string, written: () => void): void {
    this.connection.write(this.frameStart, json, written);
  }

  isBackedUp(): boolean {
    return this.connection.isBackedUp();
  }

  tooSlow(): void {
    this.connection.close(CloseCode.TryAgainLater, 'Subscriber too slow');
  }

  expired(error: GraphQLError): void {
    this.connection.write(this.frameStart, JSON.stringify({ errors: [error] }), () => {});
    this.connection.close(CloseCode.Forbidden, 'Token expired');
  }
}

/**
 * The close code for credentials refused at `connection_init`: 4401, 1013 (try again later)
 * when the router could not fetch the keys to check them, or 4400 when unusable.
 */
export function refusalCloseCode(error: GraphQLError): CloseCode {
  if (isKeysUnavailable(error)) return CloseCode.TryAgainLater;
  return error.extensions['code'] === 'UNAUTHENTICATED'
    ? CloseCode.Unauthorized
    : CloseCode.BadRequest;
}

/** A close reason from a message: a WebSocket close reason is at most 123 bytes. */
export function closeReason(message: string): string {
  if (Buffer.byteLength(message) <= 123) return message;
  let cut = message.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}…`;
}
