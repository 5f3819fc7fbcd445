import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '@edfs/router';
import { removeDir, tempDir } from './support/broker-process.js';
import { post, subscribe, wsClient, type Subscription } from './support/graphql.js';
import { amqpBroker, redisBroker, type Broker } from './support/brokers.js';
import { runScript } from './support/scripts.js';
import { BUS_EVENTS_SDL, eventsSdlIn, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

type Message = { messageAdded: { id: string; text?: string } };
const room = (id: string) => `subscription { messageAdded(roomID: "${id}") { id text } }`;
const subject = (id: string) => `room.${id}.messages`;
const message = (id: string) => ({ __typename: 'Message', id });
const announce = (roomID: string, id: string) =>
  `mutation { announce(roomID: "${roomID.replace(/\\/g, '\\\\')}", id: "${id}") { success } }`;

/** Ids (or error codes) a subscription yields, until `until`. */
async function idsUntil(sub: Subscription<Message>, until: string): Promise<string[]> {
  const seen: string[] = [];
  while (seen.at(-1) !== until) {
    const result = await sub.next();
    seen.push(result.data?.messageAdded.id ?? String(result.errors?.[0]?.extensions?.['code']));
  }
  return seen;
}

describe.each([
  { kind: 'redis', start: redisBroker, timeoutMs: 10_000 },
  { kind: 'amqp', start: amqpBroker, timeoutMs: 60_000 },
])('the $kind provider', ({ start, timeoutMs }) => {
  let broker: Broker;
  let stack: TestStack;
  let dir: string;
  const configure = (config: RouterConfig): void => {
    eventsSdlIn(() => dir, BUS_EVENTS_SDL)(config);
    config.providers = { bus: broker.provider };
  };
  const subscribed = (name: string, count = 1) =>
    waitFor(
      `${count} subscription(s) on ${name}`,
      async () => (await broker.subscriptionsOn(name)) === count,
      timeoutMs,
    );
  const health = async () => {
    const response = await fetch(stack.router.url.replace('/graphql', '/health'));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = tempDir('providers');
    broker = await start();
    stack = await startTestStack({ configure });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await broker?.close();
    if (dir) removeDir(dir);
  }, 60_000);

  it('delivers the chat flow: an event published with the broker’s client, joined', async () => {
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, room('chat'));
      await subscribed(subject('chat'));
      await broker.publish(subject('chat'), message('1'));
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      expect(await health()).toEqual({
        status: 200,
        body: {
          status: 'ok',
          nats: 'connected',
          providers: { default: 'connected', bus: 'connected' },
        },
      });
    } finally {
      await client.dispose();
    }
  });

  it('delivers what `pnpm pub --provider` publishes', async () => {
    const file = join(dir, 'router.yaml');
    writeFileSync(
      file,
      JSON.stringify({ supergraph: 'unused.graphql', providers: { bus: broker.provider } }),
    );
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, room('pub'));
      await subscribed(subject('pub'));
      const event = JSON.stringify(message('1'));
      const script = runScript([
        ...[process.execPath, '--import', 'tsx', 'stack/pub.ts'],
        ...['--provider', 'bus', '--config', file, subject('pub'), event],
      ]);
      expect({ ...(await script.exited), stderr: script.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect((await sub.next()).data?.messageAdded.id).toBe('1');
    } finally {
      await client.dispose();
    }
  });

  it('publishes through a mutation: its subscribers receive the entity key', async () => {
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, room('mutation'));
      await subscribed(subject('mutation'));
      expect((await post(stack.router.url, announce('mutation', '1'))).body).toEqual({
        data: { announce: { success: true } },
      });
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
    } finally {
      await client.dispose();
    }
  });

  it('refuses to publish with an argument that is not one token', async () => {
    for (const roomID of ['*', '#', 'a.b', 'a?', '[ab]', 'a\\b', 'a b']) {
      expect((await post(stack.router.url, announce(roomID, '1'))).body).toEqual({
        data: { announce: { success: false } },
        errors: [
          expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
        ],
      });
    }
  });

  it('answers a bad event with INVALID_EVENT and goes on', async () => {
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, room('bad'));
      await subscribed(subject('bad'));
      await broker.publish(subject('bad'), 'not json');
      await broker.publish(subject('bad'), { __typename: 'User', id: '1' });
      // Its error must not overflow the stack in the broker client's read loop.
      await broker.publish(
        subject('bad'),
        `{"__typename":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      );
      await broker.publish(subject('bad'), message('1'));
      expect(await idsUntil(sub, '1')).toEqual([
        'INVALID_EVENT',
        'INVALID_EVENT',
        'INVALID_EVENT',
        '1',
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('refuses an argument that is not one token, and subscribes to nothing', async () => {
    await stack.subscriptionsOpen(0); // the last test's subscriptions are gone
    const client = wsClient(stack.router.url);
    try {
      for (const roomID of ['*', '#', '>', 'a.b', 'a?', '[ab]', 'a\\b', 'a b', '']) {
        const sub = subscribe<Message>(client, room(roomID.replace(/\\/g, '\\\\')));
        await expect(sub.next()).rejects.toEqual([
          expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
        ]);
      }
      expect(stack.router.subjects).toBe(0);
      expect(await broker.subscriptionsOn(subject('*'))).toBe(0);
      expect(await broker.subscriptionsOn(subject('#'))).toBe(0);
    } finally {
      await client.dispose();
    }
  });

  it('delivers to two routers on one broker', async () => {
    const other = await startRouterWith(stack, configure);
    const clients = [wsClient(stack.router.url), wsClient(other.url)];
    try {
      const subs = clients.map((client) => subscribe<Message>(client, room('two')));
      await subscribed(subject('two'), 2);
      await broker.publish(subject('two'), message('1'));
      for (const sub of subs) expect((await sub.next()).data?.messageAdded.id).toBe('1');
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
      await other.close();
    }
  });

  it('releases the broker’s subscription when the last client leaves', async () => {
    const client = wsClient(stack.router.url);
    try {
      const first = subscribe<Message>(client, room('leave'));
      const second = subscribe<Message>(client, room('leave'));
      await stack.subscriptionsOpen(2);
      await subscribed(subject('leave'));
      await first.unsubscribe();
      await stack.subscriptionsOpen(1);
      expect(await broker.subscriptionsOn(subject('leave'))).toBe(1);
      await second.unsubscribe();
      await subscribed(subject('leave'), 0);
      expect(stack.router.subjects).toBe(0);
    } finally {
      await client.dispose();
    }
  });

  it('ends a subscription the broker refuses with SUBSCRIPTION_FAILED; the others go on', async () => {
    const provider = await broker.restricted(subject('ok'));
    const limited = await startRouterWith(stack, (config) => {
      configure(config);
      config.providers = { bus: provider };
    });
    const client = wsClient(limited.url);
    try {
      const ok = subscribe<Message>(client, room('ok'));
      await subscribed(subject('ok'));
      const denied = subscribe<Message>(client, room('denied'));
      expect((await denied.next()).errors).toEqual([
        expect.objectContaining({ extensions: { code: 'SUBSCRIPTION_FAILED' } }),
      ]);
      expect(limited.subjects).toBe(1);
      if (broker.refusalReconnects) {
        // RabbitMQ closes the channel of a refused binding: the router reconnects, and says so.
        expect((await ok.next()).errors?.[0]?.extensions?.['code']).toBe('EVENTS_MISSED');
      }
      await subscribed(subject('ok'));
      await broker.publish(subject('ok'), message('1'));
      expect((await ok.next()).data?.messageAdded.id).toBe('1');
    } finally {
      await client.dispose();
      await limited.close();
    }
  }, 120_000);

  it('notices a frozen broker on /health, and delivers again once it thaws', async () => {
    const pinged = await startRouterWith(stack, (config) => {
      configure(config);
      config.providers = { bus: { ...broker.provider, pingIntervalMs: 1_000 } };
    });
    const status = async () => (await fetch(pinged.url.replace('/graphql', '/health'))).status;
    const client = wsClient(pinged.url);
    try {
      const sub = subscribe<Message>(client, room('frozen'));
      await subscribed(subject('frozen'));
      const thaw = await broker.freeze();
      try {
        // Two intervals without an answer, and the connection counts as gone.
        await waitFor('health to report it', async () => (await status()) === 503, 15_000);
      } finally {
        thaw();
      }
      await waitFor('health back', async () => (await status()) === 200, timeoutMs);
      expect((await sub.next()).errors?.[0]?.extensions?.['code']).toBe('EVENTS_MISSED');
      await subscribed(subject('frozen'));
      await broker.publish(subject('frozen'), message('f1'));
      expect((await sub.next()).data?.messageAdded.id).toBe('f1');
    } finally {
      await client.dispose();
      await pinged.close();
    }
  }, 120_000);

  it('starts while the broker is down, and subscribes once it is up', async () => {
    await broker.stop();
    const late = await startRouterWith(stack, configure);
    const client = wsClient(late.url);
    try {
      const sub = subscribe<Message>(client, room('late'));
      await waitFor('the subscription', () => late.subscriptions === 1);
      await broker.start();
      await subscribed(subject('late'));
      await broker.publish(subject('late'), message('1'));
      expect((await sub.next()).data?.messageAdded.id).toBe('1');
      // The stack's router lost the broker too; the next test starts once it is back.
      await waitFor(
        'the router to reconnect',
        async () => (await health()).status === 200,
        timeoutMs,
      );
    } finally {
      await client.dispose();
      await late.close();
    }
  }, 180_000);

  it('survives a broker restart: its subscribers are told, the other provider’s fields go on', async () => {
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, room('restart'));
      const job = subscribe<{ scrapeJobState: { id: string } }>(
        client,
        'subscription { scrapeJobState(id: "j1") { id } }',
      );
      await subscribed(subject('restart'));
      await stack.subscribedOn('scrapeJob.j1.state');
      await broker.publish(subject('restart'), message('m1'));
      expect((await sub.next()).data?.messageAdded.id).toBe('m1');

      await broker.stop();
      await waitFor(
        'health to report the outage',
        async () => (await health()).status === 503,
        timeoutMs,
      );
      expect((await health()).body).toEqual({
        status: 'unavailable',
        nats: 'connected',
        providers: { default: 'connected', bus: 'disconnected' },
      });
      expect((await post(stack.router.url, announce('restart', 'm0'))).body).toEqual({
        data: { announce: { success: false } },
        errors: [
          expect.objectContaining({
            extensions: { code: 'EVENT_PUBLISH_FAILED', providerId: 'bus' },
          }),
        ],
      });
      // NATS fields are not concerned.
      stack.publish('scrapeJob.j1.state', { __typename: 'ScrapeJobState', id: 'j1' });
      expect(await job.next()).toEqual({ data: { scrapeJobState: { id: 'j1' } } });

      await broker.start();
      await subscribed(subject('restart'));
      await waitFor('health to recover', async () => (await health()).status === 200, timeoutMs);
      await broker.publish(subject('restart'), message('m2'));
      // Published while it was down is lost (at most once): the subscriber is told.
      expect(await idsUntil(sub, 'm2')).toEqual(['EVENTS_MISSED', 'm2']);
    } finally {
      await client.dispose();
    }
  }, 180_000);
});
