import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildSchema, GraphQLError } from 'graphql';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawSocket, type WsProtocol } from '../../../test/support/raw-ws.js';
import { ANONYMOUS } from '../auth/caller.js';
import type { RouterCore } from '../core.js';
import { noopInstrumentation } from '../instrumentation.js';
import { createLogger } from '../logger.js';
import { createAdmission } from './admission.js';
import { attachWebSockets, type Transport } from './websocket.js';

/** Lets whatever the event loop has queued run: enough turns for a chain of them. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

let server: Server | undefined;
let transport: Transport | undefined;
afterEach(async () => {
  await transport?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = transport = undefined;
});

/**
 * A client of a real WebSocket server whose core holds every turn until released, once it
 * has sent three subscribes and the first of them is waiting for its turn.
 */
async function held(protocol: WsProtocol) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const waiting = new Promise<void>((resolve) => (reached = resolve));
  const turn = vi.fn(() => {
    reached();
    return held;
  });
  const prepare = vi.fn(() => [new GraphQLError('refused by the test')]);
  const core = {
    turn,
    prepare,
    identify: () => Promise.resolve(ANONYMOUS),
    schema: buildSchema('type Query { x: Int }'),
  } as unknown as RouterCore;
  const logger = createLogger('silent');
  server = createServer();
  transport = attachWebSockets({
    core,
    server,
    logger,
    instrumentation: noopInstrumentation,
    maxPayloadBytes: 100_000,
    connectionInitTimeoutMs: 10_000,
    admission: createAdmission({
      maxConnections: 10,
      maxSubscriptions: 10,
      maxSubscriptionsPerConnection: 10,
      instrumentation: noopInstrumentation,
      logger,
    }),
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new RawSocket(`ws://127.0.0.1:${port}/graphql`, protocol);
  expect((await client.init())?.type).toBe('connection_ack');
  for (const id of ['1', '2', '3']) await client.subscribe(protocol, id, 'subscription { x }');
  await waiting;
  return { client, turn, prepare, release };
}

/**
 * A subscribe waits for the router's turn (RouterCore.turn) before it is prepared; once the
 * socket closes, from either side, what still waits must start nothing (nothing would end
 * it) and take no more turns from the router.
 */
describe.each(['graphql-transport-ws', 'graphql-ws'] as const)(
  'a %s subscribe waiting for its turn',
  (protocol) => {
    it('is prepared once its turn comes, and the next ones after it', async () => {
      const { client, turn, prepare, release } = await held(protocol);
      expect(prepare).not.toHaveBeenCalled();
      release();
      for (const id of ['1', '2', '3']) expect(await client.next()).toMatchObject({ id });
      expect(prepare).toHaveBeenCalledTimes(3);
      expect(turn).toHaveBeenCalledTimes(3);
      client.close();
    });

    it('starts nothing once the client has closed', async () => {
      const { client, turn, prepare, release } = await held(protocol);
      client.close();
      await client.closed;
      release();
      await settle();
      expect(prepare).not.toHaveBeenCalled();
      expect(turn).toHaveBeenCalledOnce();
    });

    it('starts nothing once the router has closed it (a drain)', async () => {
      const { client, turn, prepare, release } = await held(protocol);
      const closing = transport!.close();
      expect((await client.closed).code).toBe(1001);
      release();
      await closing;
      await settle();
      expect(prepare).not.toHaveBeenCalled();
      expect(turn).toHaveBeenCalledOnce();
    });
  },
);

it('answers a graphql-transport-ws ping while subscribes wait for their turn', async () => {
  const { client, prepare } = await held('graphql-transport-ws');
  await client.send({ type: 'ping' });
  expect(await client.first('pong')).toMatchObject({ type: 'pong' });
  expect(prepare).not.toHaveBeenCalled();
  client.close();
});
