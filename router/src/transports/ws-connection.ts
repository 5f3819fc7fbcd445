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

/**
 * Runs every callback queued in a tick once at its end, from one `nextTick` however many
 * sockets were corked in it. Holds at most one callback per connection (each queues its
 * uncork only when it corks), so it is bounded by the open connections.
 */
export class EndOfTick {
  #queued: (() => void)[] = [];
  readonly #run = (): void => {
    const queued = this.#queued;
    this.#queued = [];
    for (const callback of queued) callback();
  };

  queue(callback: () => void): void {
    if (this.#queued.push(callback) === 1) process.nextTick(this.#run);
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
  { frames, endOfTick }: SharedWrites,
  writes: ResultWrites,
  close: (code: number, reason: string) => void,
): Connection {
  const isBackedUp = (): boolean => socket.bufferedAmount > 0;
  if (writes === 'ws' || socket.extensions !== '') {
    return {
      write: (prefix, json, written) => {
        if (socket.readyState !== socket.OPEN) return written();
        socket.send(`${prefix}${json}}`, () => written());
      },
      isBackedUp,
      close,
    };
  }
  let corked = false;
  /** Bytes written since the socket was corked: buffered by us, not refused by the OS. */
  let corkedBytes = 0;
  const uncork = (): void => {
    corked = false;
    corkedBytes = 0;
    raw.uncork(); // the OS takes what it can now; the rest stays in bufferedAmount
  };
  return {
    write: (prefix, json, written) => {
      // ws writes its own frames (pong, close, graphql-ws messages) whole and in order on
      // the same socket; after its close frame nothing more may follow.
      if (socket.readyState !== socket.OPEN || raw.destroyed) return written();
      const { head, body } = frames.frame(prefix, json);
      if (!corked) {
        corked = true;
        raw.cork();
        endOfTick.queue(uncork);
      }
      // `written` is called once the OS has taken the frame, or with an error once the
      // socket is gone.
      if (body === undefined) {
        corkedBytes += head.length;
        raw.write(head, written);
      } else {
        corkedBytes += head.length + body.length;
        raw.write(head);
        raw.write(body, written);
      }
    },
    isBackedUp: () => socket.bufferedAmount > corkedBytes,
    close,
  };
}
