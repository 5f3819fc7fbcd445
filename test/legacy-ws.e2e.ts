import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import type { ExecutionResult } from 'graphql';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe as subscribeModern, withoutCursor, wsClient } from './support/graphql.js';

/** Results and the end of one operation, read in order from the legacy client's observer. */
function request(client: SubscriptionClient, query: string, variables?: Record<string, unknown>) {
  const results: ExecutionResult[] = [];
  const waiting: (() => void)[] = [];
  let failure: unknown;
  let completed = false;
  const wake = () => waiting.splice(0).forEach((w) => w());
  const subscription = client.request({ query, ...(variables ? { variables } : {}) }).subscribe({
    next: (result) => void (results.push(withoutCursor(result as ExecutionResult).result), wake()),
    error: (error: unknown) => void ((failure = error), wake()),
    complete: () => void ((completed = true), wake()),
  });
  const until = async (ready: () => boolean) => {
    while (!ready()) await new Promise<void>((resolve) => waiting.push(resolve));
  };
  return {
    async next(): Promise<ExecutionResult> {
      await until(() => results.length > 0 || failure !== undefined || completed);
      if (results.length === 0) throw failure ?? new Error('completed');
      return results.shift()!;
    },
    async error(): Promise<unknown> {
      await until(() => failure !== undefined);
      return failure;
    },
    async completion(): Promise<void> {
      await until(() => completed);
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}

describe('legacy subscriptions-transport-ws clients (sub-protocol graphql-ws)', () => {
  let stack: TestStack;
  let client: SubscriptionClient;
  beforeAll(async () => {
    stack = await startTestStack();
    client = new SubscriptionClient(
      stack.router.url.replace(/^http/, 'ws'),
      { reconnect: false },
      WebSocket,
    );
  });
  afterAll(async () => {
    client?.close();
    await stack?.close();
  });

  it('receives joined events, INVALID_EVENT results, and releases the subject on stop', async () => {
    const sub = request(
      client,
      'subscription ($r: ID!) { messageAdded(roomID: $r) { id text user { name } } }',
      {
        r: 'legacy',
      },
    );
    await stack.subscribedOn('room.legacy.messages');

    stack.publish('room.legacy.messages', 'not json');
    stack.publish('room.legacy.messages', { __typename: 'Message', id: '2' });

    expect((await sub.next()).errors).toEqual([
      expect.objectContaining({ extensions: { code: 'INVALID_EVENT' } }),
    ]);
    expect(await sub.next()).toEqual({
      data: { messageAdded: { id: '2', text: 'Hi Alice!', user: { name: 'Bob' } } },
    });
    sub.unsubscribe();
    await stack.subscribedOn('room.legacy.messages', 0);
  });

  it('runs queries and mutations, then completes them', async () => {
    const query = request(client, '{ user(id: "1") { id name } }');
    expect(await query.next()).toEqual({
      data: { user: { id: '1', name: 'Alice' } },
    });
    await query.completion();
  });

  it('refuses a wildcard argument with BAD_USER_INPUT', async () => {
    const sub = request(client, 'subscription { messageAdded(roomID: ">") { id } }');
    // The legacy client hands its observer the first error of the `error` message.
    expect(await sub.error()).toEqual(
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
    );
    expect(stack.router.subjects).toBe(0);
  });

  it('shares the path with graphql-transport-ws clients, each served its own protocol', async () => {
    const modern = wsClient(stack.router.url);
    const legacySub = request(client, 'subscription { messageAdded(roomID: "both") { id } }');
    const modernSub = subscribeModern(
      modern,
      'subscription { messageAdded(roomID: "both") { id } }',
    );
    await stack.subscriptionsOpen(2);
    await stack.subscribedOn('room.both.messages');

    stack.publish('room.both.messages', { __typename: 'Message', id: '1' });

    const expected = { data: { messageAdded: { id: '1' } } };
    expect(await legacySub.next()).toEqual(expected);
    expect(await modernSub.next()).toEqual(expected);
    legacySub.unsubscribe();
    await modern.dispose();
  });

  it('ends every operation with its socket, whatever ids a client reuses', async () => {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    const send = (message: object) => socket.send(JSON.stringify(message));
    const room = 'subscription { messageAdded(roomID: "reused") { id } }';
    for (let round = 0; round < 3; round++) {
      // A query stopped before it answers, and a subscription under its id at once: the
      // query's end must not take the subscription's place with it.
      send({ type: 'start', id: `q${round}`, payload: { query: '{ user(id: "1") { name } }' } });
      send({ type: 'stop', id: `q${round}` });
      send({ type: 'start', id: `q${round}`, payload: { query: room } });
    }
    // Two starts of one id in one batch: the second is refused, as a reused id is.
    send({ type: 'start', id: 'twice', payload: { query: room } });
    send({ type: 'start', id: 'twice', payload: { query: room } });
    const code = await new Promise<number>((resolve) => socket.once('close', resolve));
    expect(code).toBe(4409);
    await stack.subscriptionsOpen(0);
    await stack.subscribedOn('room.reused.messages', 0);
  });

  it('closes a connection that sends a malformed frame with 4400', async () => {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    expect(socket.protocol).toBe('graphql-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('{"type":"start"}');
    expect(await closed).toBe(4400);
  });

  it('closes a connection that never initialises with 4408', async () => {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    expect(await new Promise<number>((resolve) => socket.once('close', resolve))).toBe(4408);
  });
});

describe('WebSocket sub-protocol negotiation', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is refused at the upgrade with 400 naming the supported protocols', async () => {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'mqtt');
    socket.on('error', () => undefined);
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) =>
      socket.once('unexpected-response', (_req, res) => resolve(res)),
    );
    expect(response.statusCode).toBe(400);
    let body = '';
    for await (const chunk of response) body += String(chunk);
    expect(body).toContain('use graphql-transport-ws or graphql-ws');
  });

  it('closes a client that offers no sub-protocol with 4406', async () => {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'));
    expect(await new Promise<number>((resolve) => socket.once('close', resolve))).toBe(4406);
  });
});
