import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { AttackContext } from './campaign.js';
import { internalClose, internalErrors, parseJson } from './oracle.js';
import { rawConnect, readHead, socketClosed } from './tcp.js';

/** The two WebSocket protocols the router speaks on `/graphql`. */
export type Dialect = 'modern' | 'legacy';

export const SUB_PROTOCOL: Readonly<Record<Dialect, string>> = {
  modern: 'graphql-transport-ws',
  legacy: 'graphql-ws',
};

/** Protocol messages as text; `payload` is a GraphQL request already in JSON. */
export function protocolMessages(dialect: Dialect) {
  const [start, stop] = dialect === 'modern' ? ['subscribe', 'complete'] : ['start', 'stop'];
  return {
    init: '{"type":"connection_init"}',
    subscribe: (id: string, payload: string) =>
      `{"id":${JSON.stringify(id)},"type":"${start}","payload":${payload}}`,
    complete: (id: string) => `{"id":${JSON.stringify(id)},"type":"${stop}"}`,
  };
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

type Message = Record<string, unknown>;

/**
 * A `ws` client connection for hostile messages in well-formed frames. Every answer is
 * checked by the oracle as it arrives and then dropped; `next` waits for one that matches.
 */
export class WsSession {
  readonly closed: Promise<CloseInfo>;
  readonly #socket: WebSocket;
  readonly #context: AttackContext;
  readonly #dialect: Dialect | undefined;
  readonly #waiters = new Set<{ match(m: Message): boolean; resolve(m?: Message): void }>();
  #acknowledged = false;
  #syncs = 0;

  private constructor(socket: WebSocket, context: AttackContext) {
    this.#socket = socket;
    this.#context = context;
    this.#dialect =
      socket.protocol === SUB_PROTOCOL.modern
        ? 'modern'
        : socket.protocol === SUB_PROTOCOL.legacy
          ? 'legacy'
          : undefined;
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? undefined : parseJson(String(data));
      if (typeof message !== 'object' || message === null) return;
      const internal = internalErrors(message);
      if (internal) context.finding('internal-error', internal);
      for (const waiter of this.#waiters) {
        if (!waiter.match(message as Message)) continue;
        this.#waiters.delete(waiter);
        waiter.resolve(message as Message);
      }
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        const internal = internalClose(code, String(reason));
        if (internal) context.finding('internal-error', internal);
        for (const waiter of this.#waiters) waiter.resolve(undefined);
        this.#waiters.clear();
        resolve({ code, reason: String(reason) });
      }),
    );
  }

  /**
   * Connects offering `protocols`; `undefined` when the router refuses the upgrade (an
   * unknown sub-protocol is answered 400) or the connection fails.
   */
  static open(
    context: AttackContext,
    protocols: string[] | undefined,
    headers: Record<string, string> = {},
  ): Promise<WsSession | undefined> {
    return new Promise((resolve) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(context.target.wsUrl, protocols, {
          handshakeTimeout: 10_000,
          headers,
        });
      } catch {
        return resolve(undefined); // a header value ws will not write: nothing was sent
      }
      context.track({ destroy: () => socket.terminate() });
      socket.on('error', () => undefined); // a refused or reset connection is an answer too
      socket.once('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        if (status >= 500) context.finding('internal-error', `upgrade answered ${status}`);
        response.resume();
        socket.terminate();
      });
      socket.once('open', () => resolve(new WsSession(socket, context)));
      socket.once('close', () => resolve(undefined));
    });
  }

  get dialect(): Dialect | undefined {
    return this.#dialect;
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Sends one frame; a `label` counts it as a hostile input. False once closed. */
  send(data: string | Buffer, label?: string, binary = false): boolean {
    if (!this.isOpen) return false;
    this.#socket.send(data, { binary });
    if (label !== undefined) this.#context.sent(label);
    return true;
  }

  /** The next message that matches, or `undefined` if the connection closes first. */
  next(match: (message: Message) => boolean): Promise<Message | undefined> {
    if (!this.isOpen) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.add({ match, resolve }));
  }

  /** Sends connection_init and waits for the acknowledgement; false if closed instead. */
  async init(): Promise<boolean> {
    const ack = this.next((m) => m['type'] === 'connection_ack');
    this.send(protocolMessages(this.#dialect ?? 'modern').init);
    this.#acknowledged = (await ack) !== undefined;
    return this.#acknowledged;
  }

  /**
   * A round trip after everything sent so far: the router has read it all when this
   * returns (true), or closed the connection (false). graphql-transport-ws answers a ping;
   * the legacy protocol answers a query once initialised, and connection_init before.
   */
  async sync(): Promise<boolean> {
    if (this.#dialect === 'legacy' && !this.#acknowledged) return this.init();
    if (this.#dialect === 'legacy') {
      const id = `sync-${++this.#syncs}`;
      const done = this.next((m) => m['type'] === 'complete' && m['id'] === id);
      this.send(protocolMessages('legacy').subscribe(id, '{"query":"{ __typename }"}'));
      return (await done) !== undefined;
    }
    const pong = this.next((m) => m['type'] === 'pong');
    this.send('{"type":"ping"}');
    return (await pong) !== undefined;
  }

  /** Closes with the closing handshake, or drops the TCP connection; waits for the end. */
  async end(how: 'close' | 'terminate'): Promise<CloseInfo> {
    if (how === 'terminate') this.#socket.terminate();
    else if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000);
    return this.closed;
  }
}

export interface FrameOptions {
  /** @default true */
  fin?: boolean;
  /** RSV1–3 as bits 0b100, 0b010, 0b001. @default 0 */
  rsv?: number;
  /** Clients must mask; an unmasked frame is a protocol error. @default true */
  masked?: boolean;
  /** The length to announce, when it is not the payload's. */
  length?: bigint;
}

/** One WebSocket frame as a client sends it, any rule broken on request. */
export function encodeFrame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer {
  const { fin = true, rsv = 0, masked = true } = options;
  const length = options.length ?? BigInt(payload.length);
  const head = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf)];
  const maskBit = masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126n) {
    head.push(maskBit | Number(length));
  } else if (length < 65_536n) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(length);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

export const Opcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface UpgradeRequest {
  /** @default "/graphql" */
  path?: string;
  /** @default "GET" */
  method?: string;
  /** Headers over the defaults of a valid upgrade; `null` leaves one out. */
  headers?: Record<string, string | null>;
}

/** The bytes of an upgrade request, valid unless told otherwise. */
export function upgradeRequest(port: number, request: UpgradeRequest = {}): string {
  const headers: Record<string, string | null> = {
    host: `127.0.0.1:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...request.headers,
  };
  const lines = Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}\r\n`);
  return `${request.method ?? 'GET'} ${request.path ?? '/graphql'} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/**
 * A WebSocket spoken byte by byte over TCP, for what `ws` will not send: broken frames,
 * frames cut short, connections dropped mid-frame. Server frames are parsed to check
 * close codes and results with the oracle.
 */
export class RawWs {
  readonly socket: Socket;
  /** The code of the router's close frame, or `undefined` if TCP closed without one. */
  readonly closeCode: Promise<number | undefined>;
  readonly #context: AttackContext;
  readonly #texts = new Set<{ match(text: string): boolean; resolve(ok: boolean): void }>();

  private constructor(socket: Socket, rest: Buffer, context: AttackContext) {
    this.socket = socket;
    this.#context = context;
    let buffer = rest;
    let closeCode!: (code: number | undefined) => void;
    this.closeCode = new Promise((resolve) => (closeCode = resolve));
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let frame = readFrame(buffer); frame; frame = readFrame(buffer)) {
        buffer = buffer.subarray(frame.size);
        if (frame.opcode === Opcode.close) {
          const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          const internal = internalClose(code, frame.payload.subarray(2).toString());
          if (internal) context.finding('internal-error', internal);
          closeCode(code);
        } else if (frame.opcode === Opcode.text) {
          this.#received(frame.payload.toString());
        }
      }
    };
    socket.on('data', onData).resume(); // readHead left it paused
    if (rest.length > 0) onData(Buffer.alloc(0));
    socket.once('close', () => {
      closeCode(undefined);
      for (const waiter of this.#texts) waiter.resolve(false);
      this.#texts.clear();
    });
  }

  /**
   * Upgrades a TCP connection; `undefined` if the router refuses it or the connection
   * fails (any status but 101 is checked and then the socket destroyed).
   */
  static async open(
    context: AttackContext,
    protocol: string | undefined,
  ): Promise<RawWs | undefined> {
    const socket = await rawConnect(context);
    if (!socket) return undefined;
    const headers = protocol === undefined ? {} : { 'sec-websocket-protocol': protocol };
    socket.write(upgradeRequest(context.target.port, { headers }));
    const head = await readHead(socket);
    if (!head || !head.text.startsWith('HTTP/1.1 101')) {
      const status = Number(head?.text.slice(9, 12));
      if (status >= 500) context.finding('internal-error', `upgrade answered ${status}`);
      socket.destroy();
      await socketClosed(socket);
      return undefined;
    }
    return new RawWs(socket, head.rest, context);
  }

  /** Writes bytes; a `label` counts them as one hostile input. */
  write(bytes: Buffer, label?: string): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(bytes);
    if (label !== undefined) this.#context.sent(label);
  }

  /** Whether a text frame that matches arrives before the connection closes. */
  text(match: (text: string) => boolean): Promise<boolean> {
    if (this.socket.closed) return Promise.resolve(false);
    return new Promise((resolve) => this.#texts.add({ match, resolve }));
  }

  /** Ends our side (the router then closes), or drops the connection with a reset. */
  async end(how: 'end' | 'destroy' | 'reset'): Promise<void> {
    if (how === 'reset') this.socket.resetAndDestroy();
    else if (how === 'destroy') this.socket.destroy();
    else this.socket.end();
    await socketClosed(this.socket);
  }

  #received(text: string): void {
    const internal = internalErrors(parseJson(text));
    if (internal) this.#context.finding('internal-error', internal);
    for (const waiter of this.#texts) {
      if (!waiter.match(text)) continue;
      this.#texts.delete(waiter);
      waiter.resolve(true);
    }
  }
}

function readFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 0x0f;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { opcode, payload: buffer.subarray(offset, offset + length), size: offset + length };
}
