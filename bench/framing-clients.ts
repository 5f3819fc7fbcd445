/**
 * The clients of `pnpm bench:framing`, in their own process so that their reading does not
 * count as the server's time: bare TCP sockets that upgrade to WebSocket, then only count
 * bytes. Told `{ clients, port }`, then `{ expect: bytes }` per round; says `ready` once all
 * are upgraded and `arrived` once each has had a round's bytes.
 */
import { connect } from 'node:net';

interface Start {
  clients: number;
  port: number;
}

const send = (message: string): void => void process.send!(message);
let expected = Number.POSITIVE_INFINITY;
let waiting = 0;
const counts: number[] = [];

process.once('message', ({ clients, port }: Start) => {
  let upgraded = 0;
  for (let i = 0; i < clients; i++) {
    const socket = connect(port, '127.0.0.1');
    counts[i] = 0;
    let handshake = '';
    socket.on('data', (chunk: Buffer) => {
      // The 101 response comes alone: no frame is written before every client is upgraded.
      if (!handshake.endsWith('\r\n\r\n')) {
        handshake += chunk.toString('latin1');
        if (handshake.endsWith('\r\n\r\n') && ++upgraded === clients) send('ready');
        return;
      }
      const before = counts[i]!;
      counts[i] = before + chunk.length;
      if (before < expected && counts[i]! >= expected && --waiting === 0) send('arrived');
    });
    socket.on('error', (error) => {
      console.error(`client ${i}: ${error.message}`);
      process.exit(1);
    });
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from(String(i).padStart(16, '0')).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    );
  }
  process.on('message', (message: { expect: number }) => {
    counts.fill(0);
    expected = message.expect;
    waiting = clients;
    send('expecting');
  });
});
