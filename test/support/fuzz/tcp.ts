/** Raw TCP to the router, for requests and frames no client library would send. */
import { connect, type Socket } from 'node:net';
import type { AttackContext } from './campaign.js';

/** A TCP connection to the router, tracked, its errors expected; `undefined` if refused. */
export function rawConnect(context: AttackContext): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = context.track(connect(context.target.port, context.target.host));
    socket.on('error', () => undefined); // resets are what these attacks provoke
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(undefined));
  });
}

export function socketClosed(socket: Socket): Promise<void> {
  return socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** The response head, up to its blank line, and what came after it. */
export function readHead(socket: Socket): Promise<{ text: string; rest: Buffer } | undefined> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData).off('close', onClose);
      socket.pause();
      resolve({ text: buffer.subarray(0, end).toString('latin1'), rest: buffer.subarray(end + 4) });
    };
    const onClose = (): void => resolve(undefined);
    socket.on('data', onData).once('close', onClose);
  });
}
