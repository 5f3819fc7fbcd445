import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, wsClient } from './support/graphql.js';

const SUBSCRIPTION =
  'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id text user { name } } }';
const text = { '1': 'Hello, Bob!', '2': 'Hi Alice!' } as const;

describe('fan-out: cost per distinct subscription, not per client', () => {
  let stack: TestStack;
  let clients: Client[];
  beforeAll(async () => {
    stack = await startTestStack();
    clients = Array.from({ length: 20 }, () => wsClient(stack.router.url));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack?.close();
  });

  it('resolves an event once for twenty clients of the same operation', async () => {
    const subs = clients.map((c) => subscribe(c, SUBSCRIPTION, { roomID: 'crowd' }));
    await stack.subscriptionsOpen(20);
    await stack.subscribedOn('room.crowd.messages');
    expect(stack.router.groups).toBe(1);
    const before = stack.router.counters.subgraphRequests;

    stack.publish('room.crowd.messages', { __typename: 'Message', id: '1' });

    const results = await Promise.all(subs.map((s) => s.next()));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]).toEqual({
      data: { messageAdded: { id: '1', text: text['1'], user: { name: 'Alice' } } },
    });
    expect(stack.router.counters.subgraphRequests - before).toBe(2); // message, then user
    await Promise.all(subs.map((s) => s.unsubscribe()));
    await stack.subscriptionsOpen(0); // the next test counts its own
  });

  it('resolves an event with one request per subgraph, however many operations ask for it', async () => {
    const operations = [
      SUBSCRIPTION,
      // The same operation written otherwise: it shares the first one's group.
      `# another client
       subscription Chat($roomID: ID!) {
         messageAdded(roomID: $roomID) { id  text  user { name } }
       }`,
      'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { text createdAt user { id name } } }',
      'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id createdAt } }',
      'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { t: text user { name } } }',
    ];
    const subs = operations.map((query, i) => subscribe(clients[i]!, query, { roomID: 'mixed' }));
    await stack.subscriptionsOpen(operations.length);
    await stack.subscribedOn('room.mixed.messages');
    expect(stack.router.groups).toBe(operations.length - 1);
    const before = stack.router.counters.subgraphRequests;

    stack.publish('room.mixed.messages', { __typename: 'Message', id: '1' });

    const [a, b, c, d, e] = await Promise.all(subs.map((s) => s.next()));
    expect(b).toEqual(a);
    expect(a).toEqual({
      data: { messageAdded: { id: '1', text: text['1'], user: { name: 'Alice' } } },
    });
    expect(c).toEqual({
      data: {
        messageAdded: {
          text: text['1'],
          createdAt: expect.any(String),
          user: { id: expect.any(String), name: 'Alice' },
        },
      },
    });
    expect(d).toEqual({ data: { messageAdded: { id: '1', createdAt: expect.any(String) } } });
    expect(e).toEqual({ data: { messageAdded: { t: text['1'], user: { name: 'Alice' } } } });
    expect(stack.router.counters.subgraphRequests - before).toBe(2); // message, then user
    await Promise.all(subs.map((s) => s.unsubscribe()));
  });

  it('answers operations that alias the key fields or the field itself', async () => {
    const sub = subscribe(
      clients[0]!,
      'subscription ($roomID: ID!) { added: messageAdded(roomID: $roomID) { key: id kind: __typename user { name } } }',
      { roomID: 'aliases' },
    );
    await stack.subscribedOn('room.aliases.messages');

    stack.publish('room.aliases.messages', { __typename: 'Message', id: '1' });

    expect(await sub.next()).toEqual({
      data: { added: { key: '1', kind: 'Message', user: { name: 'Alice' } } },
    });
    await sub.unsubscribe();
  });

  it('batches events that arrive together and still delivers each once, in order', async () => {
    const sub = subscribe(clients[0]!, SUBSCRIPTION, { roomID: 'burst' });
    await stack.subscribedOn('room.burst.messages');
    const before = stack.router.counters.subgraphRequests;
    const ids = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? '2' : '1'));

    for (const id of ids) stack.publish('room.burst.messages', { __typename: 'Message', id });

    const received: string[] = [];
    for (const expected of ids) {
      const result = await sub.next();
      const message = (result.data as { messageAdded: { id: keyof typeof text; text: string } })
        .messageAdded;
      expect(message.text).toBe(text[expected as keyof typeof text]);
      received.push(message.id);
    }
    expect(received).toEqual(ids);
    // Unbatched this is 100 requests (two subgraphs per event); batched, far fewer.
    expect(stack.router.counters.subgraphRequests - before).toBeLessThanOrEqual(50);
    await sub.unsubscribe();
  });
});
