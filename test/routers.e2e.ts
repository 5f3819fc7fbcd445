import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRouter, type Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, wsClient } from './support/graphql.js';

describe('several routers on one NATS cluster', () => {
  let stack: TestStack;
  let second: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    second = await createRouter({ config: stack.routerConfig, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  it('delivers each event to the clients of every router', async () => {
    const clients = [wsClient(stack.router.url), wsClient(second.url)];
    const subs = clients.map((c) =>
      subscribe(c, 'subscription { messageAdded(roomID: "123") { id user { name } } }'),
    );
    await stack.subscribedOn('room.123.messages', 2);

    stack.publish('room.123.messages', { __typename: 'Message', id: '2' });

    const expected = { data: { messageAdded: { id: '2', user: { name: 'Bob' } } } };
    expect(await Promise.all(subs.map((s) => s.next()))).toEqual([expected, expected]);
    await Promise.all(clients.map((c) => c.dispose()));
    await stack.subscribedOn('room.123.messages', 0);
  });
});
