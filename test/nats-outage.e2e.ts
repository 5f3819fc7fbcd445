import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { startRouterWith } from './support/routers.js';
import { waitFor } from './support/wait.js';
import { listeningUrl, spawnRouter } from './support/cli.js';

describe('a NATS outage', () => {
  let nats: NatsServer;
  let stack: TestStack;
  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startTestStack({ natsUrl: nats.url });
  });
  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
  });

  const health = async () => (await fetch(stack.router.url.replace('/graphql', '/health'))).status;

  it('turns /health to 503, and open subscriptions resume when NATS is back', async () => {
    const client = wsClient(stack.router.url);
    const sub = subscribe(client, 'subscription { messageAdded(roomID: "123") { id text } }');
    await waitFor(
      'the subscription',
      async () => (await nats.subscriptionsOn('room.123.messages')) === 1,
    );

    await nats.stop();
    await waitFor('health to report the outage', async () => (await health()) === 503);

    const port = Number(new URL(nats.url).port);
    nats = await startNatsServer({ port });
    await waitFor(
      'the router to resubscribe',
      async () => (await nats.subscriptionsOn('room.123.messages')) === 1,
      15_000,
    );
    expect(await health()).toBe(200);

    // A publisher that connects after the outage, as `nats pub` would.
    const publisher = await connect({ servers: nats.url });
    publisher.publish('room.123.messages', JSON.stringify({ __typename: 'Message', id: '1' }));
    await publisher.flush();
    expect(await sub.next()).toEqual({ data: { messageAdded: { id: '1', text: 'Hello, Bob!' } } });
    await publisher.close();
    await client.dispose();
  });

  it('starts without NATS, serves queries, and subscribes once NATS comes up', async () => {
    const own = await startNatsServer();
    const port = Number(new URL(own.url).port);
    await own.stop();
    const router = await startRouterWith(stack, (config) => {
      config.nats.url = `nats://127.0.0.1:${port}`;
    });
    let late: NatsServer | undefined;
    const client = wsClient(router.url);
    try {
      const health = await fetch(router.url.replace('/graphql', '/health'));
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'unavailable', nats: 'disconnected' });
      expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
      const sub = subscribe(client, 'subscription { messageAdded(roomID: "late") { id text } }');
      await waitFor('the subscription', () => router.subscriptions === 1);

      late = await startNatsServer({ port });
      await waitFor(
        'the router to subscribe',
        async () => (await late!.subscriptionsOn('room.late.messages')) === 1,
        15_000,
      );
      expect((await fetch(router.url.replace('/graphql', '/health'))).status).toBe(200);
      const publisher = await connect({ servers: late.url });
      publisher.publish('room.late.messages', JSON.stringify({ __typename: 'Message', id: '1' }));
      await publisher.flush();
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      await publisher.close();
    } finally {
      await client.dispose();
      await router.close();
      await late?.stop();
    }
  });

  it('lets a router that never reached NATS stop at once', async () => {
    const router = spawnRouter([], { PORT: '0', NATS_URL: 'nats://127.0.0.1:1' });
    try {
      await listeningUrl(router);
      const exited = new Promise((resolve) => router.once('exit', resolve));
      router.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (router.exitCode === null) router.kill('SIGKILL');
    }
  });

  it('lets a router stop cleanly while NATS is down', async () => {
    const own = await startNatsServer();
    const router = spawnRouter([], { PORT: '0', NATS_URL: own.url });
    try {
      const url = await listeningUrl(router);
      await own.stop();
      await waitFor('the router to see the outage', async () => {
        return (await fetch(url.replace('/graphql', '/health'))).status === 503;
      });

      // The CLI exits only once nothing is left open, so a leaked connection hangs here.
      const exited = new Promise((resolve) => router.once('exit', resolve));
      router.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (router.exitCode === null) router.kill('SIGKILL');
    }
  });
});
