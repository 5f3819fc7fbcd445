import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, wsClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';

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
});
