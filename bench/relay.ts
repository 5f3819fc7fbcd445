/**
 * The benchmark's ceiling: a bare NATS → graphql-transport-ws relay. It speaks just enough
 * of the protocol (connection_init, subscribe, complete, ping), renders the subject from
 * `variables.roomID`, shares one NATS subscription per subject, and forwards each event as
 * `{"data":{"messageAdded": <event>}}`: no GraphQL execution, no subgraph calls. Its results
 * go out the router's way (router/src/transports/ws-connection.ts: one frame body per event
 * shared by every client, each socket corked for the tick), so what separates the two is
 * the router's work, not a cheaper way of writing.
 *
 * Env: NATS_URL (default nats://127.0.0.1:4222), PORT (default 0). Logs one JSON line
 * `{"msg":"relay listening","url":"ws://…/graphql"}` on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect, type Subscription } from 'nats';
import { WebSocketServer, type WebSocket } from 'ws';
import { nextPrefix } from '../router/src/transports/graphql-ws.js';
import { SharedFrames } from '../router/src/transports/shared-frames.js';
import { EndOfTick, wsConnection } from '../router/src/transports/ws-connection.js';

const protocol = 'graphql-transport-ws';
const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const nc = await connect({ servers: natsUrl, name: 'bench-relay' });
const decoder = new TextDecoder();

/** One NATS subscription per subject, shared by every client's sender on it. */
interface Topic {
  readonly subscription: Subscription;
  /** Each takes the result JSON, the same string for every client. */
  readonly senders: Set<(result: string) => void>;
}
const topics = new Map<string, Topic>();

function listen(subject: string, send: (result: string) => void): () => void {
  let topic = topics.get(subject);
  if (!topic) {
    const senders = new Set<(result: string) => void>();
    const subscription = nc.subscribe(subject, {
      callback: (_error, message) => {
        const result = `{"data":{"messageAdded":${decoder.decode(message.data)}}}`;
        for (const sender of senders) sender(result);
      },
    });
    topic = { subscription, senders };
    topics.set(subject, topic);
  }
  topic.senders.add(send);
  const { senders, subscription } = topic;
  return () => {
    senders.delete(send);
    if (senders.size === 0 && topics.get(subject)?.senders === senders) {
      topics.delete(subject);
      subscription.unsubscribe();
    }
  };
}

interface ClientMessage {
  type?: string;
  id?: string;
  payload?: { variables?: { roomID?: unknown } };
}

const shared = { frames: new SharedFrames(), endOfTick: new EndOfTick() };

function serve(socket: WebSocket, raw: Duplex): void {
  const connection = wsConnection(socket, raw, shared, 'shared');
  const written = (): void => {};
  let acknowledged = false;
  const active = new Map<string, () => void>();
  const initTimer = setTimeout(() => socket.close(4408, 'Connection initialisation timeout'), 3000);
  socket.on('message', (data) => {
    let message: ClientMessage;
    try {
      message = JSON.parse(String(data)) as ClientMessage;
    } catch {
      return socket.close(4400, 'Invalid message received');
    }
    switch (message.type) {
      case 'connection_init':
        clearTimeout(initTimer);
        acknowledged = true;
        return socket.send('{"type":"connection_ack"}');
      case 'ping':
        return socket.send('{"type":"pong"}');
      case 'subscribe': {
        if (!acknowledged) return socket.close(4401, 'Unauthorized');
        const id = message.id;
        const roomID = message.payload?.variables?.roomID;
        if (typeof id !== 'string' || typeof roomID !== 'string') {
          return socket.close(4400, 'Invalid message received');
        }
        if (active.has(id)) return socket.close(4409, `Subscriber for ${id} already exists`);
        const prefix = nextPrefix(id);
        active.set(
          id,
          listen(`room.${roomID}.messages`, (result) => connection.write(prefix, result, written)),
        );
        return;
      }
      case 'complete':
        active.get(message.id ?? '')?.();
        active.delete(message.id ?? '');
        return;
      default:
        return;
    }
  });
  socket.on('close', () => {
    clearTimeout(initTimer);
    for (const release of active.values()) release();
    active.clear();
  });
}

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => (protocols.has(protocol) ? protocol : false),
});
// The TCP socket goes with the connection: the results are written straight to it.
server.on('upgrade', (req, raw: Duplex, head) => {
  if (new URL(req.url ?? '/', 'http://relay').pathname !== '/graphql') {
    raw.destroy();
    return;
  }
  wss.handleUpgrade(req, raw, head, (socket) => serve(socket, raw));
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'relay listening', url: `ws://127.0.0.1:${port}/graphql` }));
});

const stop = (): void => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close();
  void nc.drain();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
