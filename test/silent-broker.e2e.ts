/**
 * A broker that accepts the TCP connection and never answers (frozen, or a silent proxy in
 * front of one): the router starts all the same, says the provider is down, and stops.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '@edfs/router';
import { removeDir, tempDir } from './support/broker-process.js';
import { BUS_EVENTS_SDL, coreNats, eventsSdlIn, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';

describe('a broker that never answers', () => {
  const dir = tempDir('silent-broker');
  let stack: TestStack;
  let silent: Server;
  const sockets = new Set<Socket>();
  let port: number;

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as AddressInfo).port;
    stack = await startTestStack({ configure: coreNats });
  });
  afterAll(async () => {
    await stack?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    removeDir(dir);
  });

  it.each<[string, ProviderConfig]>([
    ['redis', { kind: 'redis', url: 'redis://127.0.0.1:0' }],
    ['amqp', { kind: 'amqp', url: 'amqp://guest:guest@127.0.0.1:0', exchange: 'edfs' }],
  ])('%s: starts, reports the provider down, and stops', async (_kind, provider) => {
    const router = await startRouterWith(stack, (config) => {
      eventsSdlIn(() => dir, BUS_EVENTS_SDL)(config);
      config.providers = { bus: { ...provider, url: provider.url.replace(':0', `:${port}`) } };
    });
    try {
      expect(sockets.size).toBeGreaterThan(0); // it did reach the silent broker
      const health = await fetch(router.url.replace('/graphql', '/health'));
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ providers: { bus: 'disconnected' } });
    } finally {
      await router.close();
    }
  });
});
