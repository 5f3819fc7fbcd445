/**
 * A Redis provider as production runs one. On a server with ACLs, the router's own user
 * both subscribes and publishes, and when an operator narrows its channels the router ends
 * only the subscriptions it lost and goes on delivering the others.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { RouterConfig } from '@edfs/router';
import { removeDir, tempDir } from './support/broker-process.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { BUS_EVENTS_SDL, eventsSdlIn } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

type Message = { messageAdded: { id: string } };
const ROOM = (room: string) => `subscription { messageAdded(roomID: "${room}") { id } }`;
const code = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  result.errors?.[0]?.extensions?.['code'];

describe('a Redis provider', () => {
  const dir = tempDir('redis-provider');
  let redis: RedisServer;
  let stack: TestStack;
  let client: Client;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);

  /** The stack, its router on Redis as `provider` says. */
  const start = async (provider: NonNullable<RouterConfig['providers']>[string]) => {
    stack = await startTestStack({
      configure: (config) => {
        eventsSdlIn(() => dir, BUS_EVENTS_SDL)(config);
        config.providers = { bus: provider };
      },
    });
    client = wsClient(stack.router.url);
  };
  const subscribed = (room: string) =>
    waitFor(`SUBSCRIBE ${room}`, async () => (await redis.subscribersOn(room)) === 1);

  beforeEach(async () => {
    process.on('unhandledRejection', record);
    redis = await startRedisServer();
  });
  afterEach(async () => {
    process.off('unhandledRejection', record);
    await client?.dispose();
    await stack?.close();
    await redis?.stop();
  });
  afterAll(() => removeDir(dir));

  it('publishes with the credentials it subscribes with', async () => {
    await redis.client.acl('SETUSER', 'router', 'on', '>s3cret', '~*', '&*', '+@all');
    await redis.client.acl('SETUSER', 'default', 'off'); // no anonymous access
    await start({ kind: 'redis', url: redis.url, username: 'router', password: 's3cret' });
    const sub = subscribe<Message>(client, ROOM('a'));
    await subscribed('room.a.messages');
    const answer = await post(
      stack.router.url,
      'mutation { announce(roomID: "a", id: "1") { success } }',
    );
    expect(answer.body).toEqual({ data: { announce: { success: true } } });
    expect((await sub.next()).data?.messageAdded.id).toBe('1');
  });

  it('ends the channel its ACL lost, and goes on delivering the one it kept', async () => {
    await redis.client.acl(
      'SETUSER',
      'limited',
      'on',
      '>pw',
      '~*',
      '+@all',
      'resetchannels',
      '&room.a.messages',
      '&room.b.messages',
    );
    await start({ kind: 'redis', url: `redis://limited:pw@127.0.0.1:${redis.port}` });
    const a = subscribe<Message>(client, ROOM('a'));
    const b = subscribe<Message>(client, ROOM('b'));
    await subscribed('room.a.messages');
    await subscribed('room.b.messages');

    // Redis drops a connection subscribed to a channel its user may no longer read.
    await redis.client.acl('SETUSER', 'limited', 'resetchannels', '&room.a.messages');
    expect(code(await b.next())).toBe('SUBSCRIPTION_FAILED');
    expect(code(await a.next())).toBe('EVENTS_MISSED');
    await subscribed('room.a.messages');
    await redis.publish('room.a.messages', { __typename: 'Message', id: 'a1' });
    expect((await a.next()).data?.messageAdded.id).toBe('a1');
    expect((await fetch(stack.router.url.replace('/graphql', '/health'))).status).toBe(200);
    expect(unhandled).toEqual([]);
  });
});
