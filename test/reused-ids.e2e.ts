/**
 * graphql-transport-ws clients that reuse an operation id the moment they complete it,
 * while the router still runs what was under it (a query waiting for a slow subgraph): the
 * new subscription is counted under the caps, gets its events, and ends with its socket.
 * On the legacy protocol, a query stopped while it runs counts under the cap until it ends.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRouter, type Router } from '@edfs/router';
import { RawSocket } from './support/raw-ws.js';
import { coreNats } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const ROOM = (room: string) => `subscription { messageAdded(roomID: "${room}") { id } }`;
const SLOW_QUERY = '{ user(id: "1") { name } }';

describe('an id reused while its completed query still runs', () => {
  let stack: TestStack;
  let router: Router;
  /** Requests to the user subgraph, answered when the test says. */
  const held: ServerResponse[] = [];
  const logs: string[] = [];
  const slowUser = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  const answer = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: { user: { name: 'Slow' } } }));
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => slowUser.listen(0, '127.0.0.1', resolve));
    const { port } = slowUser.address() as AddressInfo;
    stack = await startTestStack({ configure: coreNats });
    const config = structuredClone(stack.routerConfig);
    config.maxSubscriptionsPerConnection = 1;
    config.limits.maxSubscriptions = 2;
    config.subgraphs['user']!.url = `http://127.0.0.1:${port}/graphql`;
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void logs.push((JSON.parse(line) as { msg: string }).msg) },
    );
    router = await createRouter({ config, logger });
  });
  afterAll(async () => {
    for (const res of held.splice(0)) answer(res);
    await router?.close();
    await stack?.close();
    slowUser.closeAllConnections();
    await new Promise((resolve) => slowUser.close(resolve));
  });

  it('counts the new subscription, delivers to it, and ends it with the socket', async () => {
    const socket = new RawSocket(router.url, 'graphql-transport-ws');
    expect((await socket.init())?.type).toBe('connection_ack');
    await socket.send({ id: 'x', type: 'subscribe', payload: { query: SLOW_QUERY } });
    await waitFor('the slow subgraph request', () => held.length === 1);
    await socket.send({ id: 'x', type: 'complete' });
    await socket.subscribe('graphql-transport-ws', 'x', ROOM('reused-a'));
    // The router has the subscribe: it either started it (router.subscriptions) or holds it
    // until the query under the same id has ended (and says so); then the query's answer.
    await waitFor(
      'the subscribe to reach the router',
      () => router.subscriptions === 1 || logs.some((msg) => msg.startsWith('a subscribe waits')),
    );
    answer(held.shift()!);
    await stack.subscribedOn('room.reused-a.messages');

    // One subscription per connection: a second one is refused, the first one stays.
    await socket.subscribe('graphql-transport-ws', 'y', ROOM('reused-b'));
    const refused = await socket.next();
    expect(refused).toMatchObject({ id: 'y', type: 'error' });
    expect(JSON.stringify(refused?.payload)).toMatch(/TOO_MANY_SUBSCRIPTIONS/);
    stack.publish('room.reused-a.messages', { __typename: 'Message', id: 'm1' });
    expect(await socket.next()).toEqual({
      id: 'x',
      type: 'next',
      payload: { data: { messageAdded: { id: 'm1' } } },
    });

    socket.close();
    await socket.closed;
    await stack.subscribedOn('room.reused-a.messages', 0);
    await waitFor('no subscription left', () => router.subscriptions === 0);
    // Both places under maxSubscriptions are free again.
    const clients = [new RawSocket(router.url, 'graphql-transport-ws')];
    clients.push(new RawSocket(router.url, 'graphql-transport-ws'));
    for (const [n, client] of clients.entries()) {
      expect((await client.init())?.type).toBe('connection_ack');
      await client.subscribe('graphql-transport-ws', '1', ROOM(`reused-fresh-${n}`));
      await stack.subscribedOn(`room.reused-fresh-${n}.messages`);
    }
    for (const client of clients) client.close();
  });

  it('legacy protocol: a query the client stopped counts under the cap until it ends', async () => {
    const socket = new RawSocket(router.url, 'graphql-ws');
    expect((await socket.init())?.type).toBe('connection_ack');
    await socket.subscribe('graphql-ws', 'a', SLOW_QUERY);
    await waitFor('the slow subgraph request', () => held.length === 1);
    await socket.send({ id: 'a', type: 'stop' });
    // One operation per connection: the stopped query still runs, so this one is refused.
    await socket.subscribe('graphql-ws', 'b', SLOW_QUERY);
    const refused = await socket.first('error');
    expect(refused).toMatchObject({ id: 'b' });
    expect(JSON.stringify(refused?.payload)).toMatch(/TOO_MANY_SUBSCRIPTIONS/);
    expect(held).toHaveLength(1);

    answer(held.shift()!);
    // Once the stopped query has ended, its place is free again: a new one starts.
    let id = '';
    for (let n = 0; held.length === 0; n++) {
      id = `c${n}`;
      await socket.subscribe('graphql-ws', id, SLOW_QUERY);
      await waitFor(
        `${id} refused or started`,
        () => held.length === 1 || socket.messages.some((m) => m.id === id && m.type === 'error'),
      );
    }
    answer(held.shift()!);
    expect(await socket.first('data')).toMatchObject({ id });
    socket.close();
  });

  it('still refuses a subscribe that reuses an id it did not complete (4409)', async () => {
    const socket = new RawSocket(router.url, 'graphql-transport-ws');
    expect((await socket.init())?.type).toBe('connection_ack');
    await socket.send({ id: 'q', type: 'subscribe', payload: { query: SLOW_QUERY } });
    await waitFor('the slow subgraph request', () => held.length === 1);
    await socket.subscribe('graphql-transport-ws', 'q', ROOM('reused-c'));
    expect((await socket.closed).code).toBe(4409);
    answer(held.shift()!);
  });
});
