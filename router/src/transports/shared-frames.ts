/**
 * WebSocket text frames for subscription results, built so that every client of a fan-out
 * group shares the bytes of the result. A result message is `${prefix}${json}}`, where only
 * the prefix differs between clients (it holds the operation id) and `json` is serialized
 * once per group; a server's frames are not masked (RFC 6455 §5.1), so a frame is a small
 * head (frame header + prefix) and a body every client can be sent as is, or, for a small
 * body, one buffer with a copy of it. ws's own send path copies and encodes the whole
 * message once per client instead.
 */

/** FIN, opcode 1 (text): a whole text message in one frame. */
const FIN_TEXT = 0x81;

/** The size of the frame header for a payload of `length` bytes. */
export function headerSize(length: number): 2 | 4 | 10 {
  return length < 126 ? 2 : length < 0x1_0000 ? 4 : 10;
}

/**
 * Writes the unmasked text frame header for a payload of `length` bytes at the start of
 * `target` (which has room for `headerSize(length)` bytes), and returns its size.
 */
export function writeHeader(target: Buffer, length: number): number {
  const size = headerSize(length);
  target[0] = FIN_TEXT;
  if (size === 2) {
    target[1] = length;
  } else if (size === 4) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    // A 64-bit length; Buffer lengths stay far below 2^53.
    target.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    target.writeUInt32BE(length >>> 0, 6);
  }
  return size;
}

/**
 * Bodies up to this size are copied into each client's frame, which then goes out as one
 * buffer: a copy of a few hundred bytes costs less than a second chunk through the socket's
 * write path. Larger bodies are sent as they are, shared by every client.
 */
export const WHOLE_FRAME_MAX_BODY = 2048;

/** One message's frame: `head`, then `body` if there is one. */
export interface Frame {
  /** Frame header and the client's prefix (this client's own bytes), and a small body too. */
  readonly head: Buffer;
  /** `${json}}` when it is larger than `WHOLE_FRAME_MAX_BODY`: one buffer for every client. */
  readonly body: Buffer | undefined;
}

/**
 * Frames results for many clients, keeping the last result's body and the last frame: the
 * fan-out loop hands one result to every member of a group in a row, so each result is
 * encoded once, and members whose prefix is the same (the same operation id) share the
 * frame too. Holds one result at a time, so its memory is bounded by the largest result.
 */
export class SharedFrames {
  #json: string | undefined;
  #body: Buffer = Buffer.alloc(0);
  #prefix: string | undefined;
  #frame: Frame | undefined;

  /** The frame of the text message `${prefix}${json}}`. */
  frame(prefix: string, json: string): Frame {
    if (json !== this.#json) {
      this.#json = json;
      this.#body = Buffer.from(`${json}}`);
      this.#frame = undefined;
    }
    if (prefix !== this.#prefix || this.#frame === undefined) {
      this.#prefix = prefix;
      const body = this.#body;
      if (body.length > WHOLE_FRAME_MAX_BODY) {
        this.#frame = { head: frameHead(prefix, body.length), body };
      } else {
        const head = frameHead(prefix, body.length, body.length);
        body.copy(head, head.length - body.length);
        this.#frame = { head, body: undefined };
      }
    }
    return this.#frame;
  }
}

/**
 * Frame header and `prefix`, for a message of `prefix` and a body of `bodyLength` bytes,
 * with room for `room` more bytes after them (left for the caller to fill).
 */
export function frameHead(prefix: string, bodyLength: number, room = 0): Buffer {
  const prefixLength = Buffer.byteLength(prefix);
  const length = prefixLength + bodyLength;
  const head = Buffer.allocUnsafe(headerSize(length) + prefixLength + room);
  head.write(prefix, writeHeader(head, length));
  return head;
}
