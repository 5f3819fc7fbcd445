import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRouter, type Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient } from './support/graphql.js';

const SUBSCRIPTION = 'subscription { messageAdded(roomID: "123") { id text user { name } } }';

describe('a subgraph that is down or slow', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('times out a slow subgraph: partial data and SUBGRAPH_TIMEOUT, the subscription stays open', async () => {
    const hung: Server = createServer(() => undefined); // accepts requests, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const config = structuredClone(stack.routerConfig);
    config.subgraphs['user']!.url =
      `http://127.0.0.1:${(hung.address() as AddressInfo).port}/graphql`;
    config.subgraphTimeoutMs = 300;
    const router: Router = await createRouter({ config, logger: pino({ level: 'silent' }) });
    const client = wsClient(router.url);
    try {
      const sub = subscribe(client, SUBSCRIPTION);
      await stack.subscribedOn('room.123.messages');

      stack.publish('room.123.messages', { __typename: 'Message', id: '1' });

      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: null } },
        errors: [
          expect.objectContaining({
            message: 'Subgraph "user" timed out.',
            extensions: expect.objectContaining({ code: 'SUBGRAPH_TIMEOUT', serviceName: 'user' }),
          }),
        ],
      });
    } finally {
      await client.dispose();
      await router.close();
      hung.closeAllConnections();
      hung.close();
      // Its stream consumer is deleted after close: the next test must not count it.
      await stack.subscribedOn('room.123.messages', 0);
    }
  });

  it('answers partial data when a subgraph stops mid-stream, and keeps the subscription', async () => {
    const client = wsClient(stack.router.url);
    const sub = subscribe(client, SUBSCRIPTION);
    await stack.subscribedOn('room.123.messages');
    stack.publish('room.123.messages', { __typename: 'Message', id: '1' });
    expect(await sub.next()).toEqual({
      data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: { name: 'Alice' } } },
    });

    await stack.subgraphs.user.close();
    stack.publish('room.123.messages', { __typename: 'Message', id: '2' });

    const partial = await sub.next();
    expect(partial.data).toEqual({ messageAdded: { id: '2', text: 'Hi Alice!', user: null } });
    expect(partial.errors).toEqual([
      expect.objectContaining({
        message: 'Subgraph "user" is unavailable.',
        extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'user' }),
      }),
    ]);
    expect(JSON.stringify(partial.errors)).not.toContain('127.0.0.1');

    stack.publish('room.123.messages', { __typename: 'Message', id: '1' });
    expect((await sub.next()).data).toEqual({
      messageAdded: { id: '1', text: 'Hello, Bob!', user: null },
    });

    const query = await post(stack.router.url, '{ message(id: "1") { text user { name } } }');
    expect(query.status).toBe(200);
    expect(query.body.data).toEqual({ message: { text: 'Hello, Bob!', user: null } });
    expect(query.body.errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_UNAVAILABLE');
    await sub.unsubscribe();
    await client.dispose();
  });
});
