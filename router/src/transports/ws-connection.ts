import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SharedFrames } from './shared-frames.js';
import type { Connection } from './websocket-protocol.js';

/**
 * How subscription results reach a client's socket. `shared`: frames whose result bytes
 * every client of a group shares (shared-frames.ts), written straight to the TCP socket,
 * which is corked until the end of the tick so that everything due to one client in a tick
 * goes out in one `writev`. `ws`: ws's own `send`, one copy and one write per message.
 */
export type ResultWrites = 'shared' | 'ws';

/** What a connection queues to run once at the end of the tick. */
export interface TickEnd {
  tickEnded(): void;
}

/**
 * Runs everything queued in a tick once at its end, from one `nextTick` however many
 * sockets were corked in it. Holds at most one entry per connection (each queues itself
 * only when it corks), so it is bounded by the open connections.
 */
export class EndOfTick {
  #queued: TickEnd[] = [];
  readonly #run = (): void => {
    const queued = this.#queued;
    this.#queued = [];
    for (const entry of queued) entry.tickEnded();
  };

  queue(entry: TickEnd): void {
    if (this.#queued.push(entry) === 1) process.nextTick(this.#run);
  }
}

/** What the connections of one WebSocket server share for their results. */
export interface SharedWrites {
  readonly frames: SharedFrames;
  readonly endOfTick: EndOfTick;
}

/**
 * The `Connection` of a ws socket whose TCP socket is `raw`. Shared frames need the frames
 * to go out exactly as built, so a connection that negotiated an extension (permessage-
 * deflate compresses each message) uses ws's send path whatever `writes` says.
 */
export function wsConnection(
  socket: WebSocket,
  raw: Duplex,
  shared: SharedWrites,
  writes: ResultWrites,
): Connection {
  return writes === 'ws' || socket.extensions !== ''
    ? new WsSendConnection(socket)
    : new SharedFramesConnection(socket, raw, shared);
}

/** Closes a ws socket with `code`, unless it is closing or closed already. */
export function closeOpen(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.OPEN) socket.close(code, reason);
}

// One of these per connection: methods on the prototype rather than closures (or bound
// functions) per connection, each of which costs memory: tsx's keepNames gives a named
// closure a property table of its own, and `bind` gives a bound function one for its name.

/** What both kinds share: whether the socket is open, and closing it. */
abstract class WsConnection {
  constructor(protected readonly socket: WebSocket) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  close(code: number, reason: string): void {
    closeOpen(this.socket, code, reason);
  }
}

/** Results through ws's own `send`. */
class WsSendConnection extends WsConnection implements Connection {
  write(prefix: string, json: string, written: () => void): void {
    if (!this.open) return written();
    this.socket.send(`${prefix}${json}}`, () => written());
  }

  isBackedUp(): boolean {
    return this.socket.bufferedAmount > 0;
  }
}

/** Results as shared frames, written straight to the TCP socket, corked for the tick. */
class SharedFramesConnection extends WsConnection implements Connection, TickEnd {
  #corked = false;
  /** Bytes written since the socket was corked: buffered by us, not refused by the OS. */
  #corkedBytes = 0;

  constructor(
    socket: WebSocket,
    private readonly raw: Duplex,
    private readonly shared: SharedWrites,
  ) {
    super(socket);
  }

  write(prefix: string, json: string, written: () => void): void {
    const { raw } = this;
    // ws writes its own frames (pong, close, graphql-ws messages) whole and in order on
    // the same socket; after its close frame nothing more may follow.
    if (!this.open || raw.destroyed) return written();
    const { head, body } = this.shared.frames.frame(prefix, json);
    if (!this.#corked) {
      this.#corked = true;
      raw.cork();
      this.shared.endOfTick.queue(this);
    }
    // `written` is called once the OS has taken the frame, or with an error once the
    // socket is gone.
    if (body === undefined) {
      this.#corkedBytes += head.length;
      raw.write(head, written);
    } else {
      this.#corkedBytes += head.length + body.length;
      raw.write(head);
      raw.write(body, written);
    }
  }

  isBackedUp(): boolean {
    return this.socket.bufferedAmount > this.#corkedBytes;
  }

  tickEnded(): void {
    this.#corked = false;
    this.#corkedBytes = 0;
    this.raw.uncork(); // the OS takes what it can now; the rest stays in bufferedAmount
  }
}
