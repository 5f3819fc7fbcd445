/**
 * A WebSocket client (RFC 6455) just large enough for the load process, which holds
 * thousands of them in one process and must spend as little CPU per received message as it
 * can: every cycle it spends is taken from the server it measures on this 2-core machine.
 * It reads through `net`'s `onread` into one buffer shared by every connection (no stream,
 * no Buffer per read) and parses frames in place; a message is handed over as a view that
 * is only valid during the call. It checks the handshake (`101`, `Sec-WebSocket-Accept`,
 * the sub-protocol) and the frames (unmasked, known opcodes, sane lengths), answers pings,
 * and masks what it sends, as a client must.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface WsHandlers {
  /** The server accepted the upgrade. */
  onOpen(): void;
  /** A text (or binary) message; `data` is a view valid only during the call. */
  onMessage(data: Buffer): void;
  /** The connection is over: a close frame, the socket ended, or an error (code 1006). */
  onClose(code: number, reason: string): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest message accepted; the bench's results are a few hundred bytes. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Every connection reads into this: reads are handled one at a time, each to its end. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

export class WsClient {
  readonly #socket: Socket;
  readonly #handlers: WsHandlers;
  readonly #key = randomBytes(16).toString('base64');
  readonly #protocol: string;
  #open = false;
  #closed = false;
  #closeSent = false;
  /** Bytes of a frame (or of the handshake answer) that arrived incomplete. */
  #pending: Buffer | undefined;
  /** Payloads of a fragmented message so far. */
  #fragments: Buffer[] = [];

  constructor(url: string, protocol: string, handlers: WsHandlers) {
    const { hostname, port, pathname, search } = new URL(url);
    this.#handlers = handlers;
    this.#protocol = protocol;
    this.#socket = connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      onread: { buffer: readBuffer, callback: (n) => this.#read(readBuffer.subarray(0, n)) },
    });
    this.#socket.on('connect', () =>
      this.#socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Key: ${this.#key}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      ),
    );
    this.#socket.on('error', (error) => this.#end(1006, error.message));
    this.#socket.on('close', () => this.#end(1006, 'socket closed'));
  }

  /** Sends a text message. */
  send(text: string): void {
    if (this.#closed || this.#closeSent) return;
    this.#frame(0x1, Buffer.from(text));
  }

  /** Starts the closing handshake; the socket ends once the server answers. */
  close(code = 1000): void {
    if (this.#closed || this.#closeSent) return;
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code);
    this.#frame(0x8, payload);
    this.#closeSent = true;
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): boolean {
    let data = chunk;
    if (this.#pending) {
      data = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    const rest = this.#open ? this.#frames(data) : this.#handshake(data);
    // The shared read buffer is overwritten by the next read: keep a copy of what is left.
    if (rest !== undefined && rest.length > 0) this.#pending = Buffer.from(rest);
    return true;
  }

  /** Parses the upgrade answer; returns the bytes after it (frames), or all if incomplete. */
  #handshake(data: Buffer): Buffer | undefined {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) {
      if (data.length > 16 * 1024) this.#fail('handshake answer too long');
      return data;
    }
    const [status = '', ...lines] = data.toString('latin1', 0, end).split('\r\n');
    const headers = new Map(
      lines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const accept = createHash('sha1').update(`${this.#key}${GUID}`).digest('base64');
    if (!/^HTTP\/1\.1 101 /.test(status)) return this.#fail(`upgrade refused: ${status}`);
    if (headers.get('sec-websocket-accept') !== accept) return this.#fail('wrong accept key');
    if (headers.get('sec-websocket-protocol') !== this.#protocol) {
      return this.#fail(`server chose protocol ${headers.get('sec-websocket-protocol')}`);
    }
    this.#open = true;
    this.#handlers.onOpen();
    return this.#closed ? undefined : this.#frames(data.subarray(end + 4));
  }

  /** Handles every whole frame in `data`; returns the incomplete rest. */
  #frames(data: Buffer): Buffer | undefined {
    let offset = 0;
    while (!this.#closed) {
      if (data.length - offset < 2) break;
      const first = data[offset]!;
      const second = data[offset + 1]!;
      if (second & 0x80) return this.#fail('the server masked a frame');
      if (first & 0x70) return this.#fail('reserved bits set (no extension was negotiated)');
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        if (data.readUInt32BE(offset + 2) !== 0) return this.#fail('frame too long');
        length = data.readUInt32BE(offset + 6);
        header = 10;
      }
      if (length > MAX_MESSAGE_BYTES) return this.#fail('frame too long');
      if (data.length - offset < header + length) break;
      const payload = data.subarray(offset + header, offset + header + length);
      offset += header + length;
      this.#onFrame(first & 0x80 ? true : false, first & 0x0f, payload);
    }
    return this.#closed ? undefined : data.subarray(offset);
  }

  #onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: {
        if ((opcode === 0x0) !== this.#fragments.length > 0) {
          return void this.#fail('unexpected continuation frame');
        }
        if (fin && this.#fragments.length === 0) return this.#handlers.onMessage(payload);
        this.#fragments.push(Buffer.from(payload));
        if (!fin) return;
        const message = Buffer.concat(this.#fragments);
        this.#fragments = [];
        return this.#handlers.onMessage(message);
      }
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.toString('utf8', 2);
        if (!this.#closeSent) this.close(code === 1005 ? 1000 : code);
        this.#socket.end();
        return this.#end(code, reason);
      }
      case 0x9:
        return this.#frame(0xa, Buffer.from(payload));
      case 0xa:
        return;
      default:
        return void this.#fail(`unknown opcode ${opcode}`);
    }
  }

  /** Writes one masked frame (a client's frames must be masked, RFC 6455 §5.3). */
  #frame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const size = length < 126 ? 2 : length < 0x1_0000 ? 4 : 10;
    const frame = Buffer.allocUnsafe(size + 4 + length);
    frame[0] = 0x80 | opcode;
    if (size === 2) frame[1] = 0x80 | length;
    else if (size === 4) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(0, 2);
      frame.writeUInt32BE(length, 6);
    }
    const mask = randomBytes(4);
    mask.copy(frame, size);
    for (let i = 0; i < length; i++) frame[size + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.#socket.write(frame);
  }

  #fail(reason: string): undefined {
    this.#socket.destroy();
    this.#end(1002, reason);
    return undefined;
  }

  #end(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.onClose(code, reason);
  }
}
