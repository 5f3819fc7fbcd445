import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { subscribe, wsClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';

/** A user subgraph that holds every request until told to fail them all. */
async function holdingSubgraph() {
  const held: ServerResponse[] = [];
  let failing = false;
  const server = createServer((_req, res) => {
    if (failing) res.destroy();
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    held: () => held.length,
    failAll() {
      failing = true;
      for (const res of held.splice(0)) res.destroy();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a burst of events while a subgraph hangs', () => {
  let stack: TestStack;
  let router: Router;
  let user: Awaited<ReturnType<typeof holdingSubgraph>>;
  beforeAll(async () => {
    stack = await startTestStack();
    user = await holdingSubgraph();
    router = await startRouterWith(stack, (config) => {
      config.subgraphs['user']!.url = user.url;
      config.maxPendingEventsPerGroup = 5;
    });
  });
  afterAll(async () => {
    await router?.close();
    await user?.close();
    await stack?.close();
  });

  it('drops what its group cannot hold, says so once, and never holds up other groups', async () => {
    const client = wsClient(router.url);
    type Message = { messageAdded: { id: string; user: unknown } | null };
    const hot = subscribe<Message>(
      client,
      'subscription { messageAdded(roomID: "hot") { id user { name } } }',
    );
    const other = subscribe<{ messageAdded: { id: string; text: string } }>(
      client,
      'subscription { messageAdded(roomID: "other") { id text } }',
    );
    await waitFor('two subscriptions', () => router.subscriptions === 2);
    await stack.subscribedOn('room.hot.messages');
    await stack.subscribedOn('room.other.messages');

    stack.publish('room.hot.messages', { __typename: 'Message', id: '1' });
    await waitFor('the first user fetch', () => user.held() === 1);
    for (let i = 2; i <= 20; i++)
      stack.publish('room.hot.messages', { __typename: 'Message', id: '1' });
    await waitFor('15 events dropped', () => router.counters.eventsDropped === 15);

    // Another group's events, on subgraphs that answer, are not held up by the backlog.
    stack.publish('room.other.messages', { __typename: 'Message', id: '2' });
    expect((await other.next()).data?.messageAdded).toEqual({ id: '2', text: 'Hi Alice!' });

    user.failAll();
    for (let i = 0; i < 5; i++) {
      const result = await hot.next();
      expect(result.data?.messageAdded).toEqual({ id: '1', user: null });
      expect(result.errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_UNAVAILABLE');
    }
    expect(await hot.next()).toEqual({
      errors: [expect.objectContaining({ extensions: { code: 'EVENTS_DROPPED' } })],
    });

    // Once the backlog has drained, events flow again.
    stack.publish('room.hot.messages', { __typename: 'Message', id: '2' });
    expect((await hot.next()).data?.messageAdded).toEqual({ id: '2', user: null });
    expect(router.counters.eventsDropped).toBe(15);
    await client.dispose();
  });
});
