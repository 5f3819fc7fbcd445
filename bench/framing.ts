/**
 * `pnpm bench:framing`: the router's two ways of writing subscription results to WebSockets
 * compared in one process, on the same sockets: ws's own `send` (a copy and a write per
 * client and result) and shared frames (one body per result, a small head per client, each
 * socket corked for the tick). The clients (bench/framing-clients.ts) are bare TCP sockets in
 * another process that count bytes, so the CPU time is the server side's alone. Modes alternate round by round; the ratio is of the best round of each.
 * `pnpm bench:framing [--clients 1000] [--events 200] [--per-tick 1] [--bytes 200] [--rounds 3]`
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { nextPrefix } from '../router/src/transports/graphql-ws.js';
import { headerSize, SharedFrames } from '../router/src/transports/shared-frames.js';
import {
  EndOfTick,
  wsConnection,
  type ResultWrites,
} from '../router/src/transports/ws-connection.js';
import type { Connection } from '../router/src/transports/websocket-protocol.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    events: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    bytes: { type: 'string', default: '200' },
    'per-tick': { type: 'string', default: '1' },
  },
});
const clients = Number(values.clients);
const events = Number(values.events);
const rounds = Number(values.rounds);
/** Size of the result's text field; the bench's real results are about 200 bytes in all. */
const textBytes = Number(values.bytes);
/** Results handed over in one tick, as when a batch of events resolves at once. */
const perTick = Number(values['per-tick']);

const server = createServer();
const wss = new WebSocketServer({ noServer: true });
const accepted: { socket: import('ws').WebSocket; raw: Duplex }[] = [];
server.on('upgrade', (req, raw: Duplex, head) =>
  wss.handleUpgrade(req, raw, head, (socket) => accepted.push({ socket, raw })),
);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

const clientProcess = fork(fileURLToPath(new URL('framing-clients.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const told = (what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (message !== what) return;
      clientProcess.off('message', onMessage);
      clientProcess.off('exit', reject);
      resolve();
    };
    clientProcess.on('message', onMessage);
    clientProcess.once('exit', reject);
  });
const ready = told('ready');
clientProcess.send({ clients, port });
await ready;
while (accepted.length < clients) await new Promise((resolve) => setTimeout(resolve, 10));

const shared = { frames: new SharedFrames(), endOfTick: new EndOfTick() };
const connections = (writes: ResultWrites): Connection[] =>
  accepted.map(({ socket, raw }) => wsConnection(socket, raw, shared, writes));
// Each client's operation id is a UUID, as graphql-ws clients make by default.
const prefixes = accepted.map(() => nextPrefix(randomUUID()));
const results = Array.from({ length: events }, (_, n) =>
  JSON.stringify({ data: { messageAdded: { id: `m${n}`, text: 'x'.repeat(textBytes) } } }),
);
/** One round: every result to every client, `perTick` results a tick, client by client. */
async function round(writes: ResultWrites): Promise<{ ms: number; cpuMs: number }> {
  const targets = connections(writes);
  // Every prefix has the same length (a UUID's), so every client expects as many bytes.
  const perClient = results.reduce((sum, json) => {
    const length = Buffer.byteLength(`${prefixes[0]!}${json}}`);
    return sum + headerSize(length) + length;
  }, 0);
  const expecting = told('expecting');
  clientProcess.send({ expect: perClient });
  await expecting;
  const all = told('arrived');
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const [n, json] of results.entries()) {
    for (const [i, connection] of targets.entries()) connection.write(prefixes[i]!, json, () => {});
    if ((n + 1) % perTick === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await all;
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

const best: Record<ResultWrites, { ms: number; cpuMs: number }> = {
  ws: { ms: Infinity, cpuMs: Infinity },
  shared: { ms: Infinity, cpuMs: Infinity },
};
for (let r = 0; r < rounds; r++) {
  for (const writes of ['ws', 'shared'] as const) {
    const { ms, cpuMs } = await round(writes);
    console.log(
      `round ${r + 1} ${writes.padEnd(6)} ${Math.round((clients * events) / (ms / 1000))} deliveries/s, ${ms.toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms`,
    );
    if (ms < best[writes].ms) best[writes] = { ms, cpuMs };
  }
}
console.log(
  `\n${clients} clients × ${events} results of ${results[0]!.length + prefixes[0]!.length + 1} bytes, ${perTick} a tick: ` +
    `shared frames ${(best.ws.ms / best.shared.ms).toFixed(2)}× the deliveries/s of ws send, ` +
    `${(best.shared.cpuMs / best.ws.cpuMs).toFixed(2)}× its CPU time (best of ${rounds} rounds each)`,
);
clientProcess.kill();
for (const client of wss.clients) client.terminate();
server.close();
