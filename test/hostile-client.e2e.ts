import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { post, subscribe, wsClient, type Subscription } from './support/graphql.js';
import { waitFor } from './support/wait.js';

const VICTIM = 'subscription { messageAdded(roomID: "123") { id text } }';

/** An open WebSocket speaking `protocol`, initialised, and the code it will close with. */
async function openSocket(url: string, protocol: string) {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), protocol);
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  socket.on('error', () => undefined); // the router may cut the socket mid-frame
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
  return { socket, closed };
}

/** Messages the socket receives, read in order. */
function messages(socket: WebSocket): () => Promise<Record<string, unknown>> {
  const queue: Record<string, unknown>[] = [];
  const waiting: ((message: Record<string, unknown>) => void)[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    if (message['type'] === 'ka') return;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  return () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise((resolve) => waiting.push(resolve));
}

describe('one hostile client never takes down the router or the others', () => {
  let stack: TestStack;
  let victim: Subscription<{ messageAdded: { id: string } }>;
  let published = 0;

  /** Publishes one more event to room 123; the victim must receive it next. */
  async function victimStillReceives(): Promise<void> {
    const id = `v${++published}`;
    stack.publish('room.123.messages', { __typename: 'Message', id });
    expect((await victim.next()).data?.messageAdded.id).toBe(id);
  }

  beforeAll(async () => {
    stack = await startTestStack();
    victim = subscribe(wsClient(stack.router.url), VICTIM);
    await stack.subscribedOn('room.123.messages');
  });
  afterAll(async () => {
    await victim?.unsubscribe();
    await stack?.close();
  });

  it.each(['graphql-ws', 'graphql-transport-ws'])(
    'closes a %s connection that sends a frame over maxPayloadBytes with 1009',
    async (protocol) => {
      const { socket, closed } = await openSocket(stack.router.url, protocol);
      socket.send('x'.repeat(1_100_000));
      expect(await closed).toBe(1009);
      await victimStillReceives();
    },
  );

  it.each(['graphql-ws', 'graphql-transport-ws'])(
    'closes a %s connection that sends invalid UTF-8 with 1007',
    async (protocol) => {
      const { socket, closed } = await openSocket(stack.router.url, protocol);
      socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      expect(await closed).toBe(1007);
      await victimStillReceives();
    },
  );

  it.each(['graphql-ws', 'graphql-transport-ws'])(
    'closes a %s connection that sends a binary frame with 4400',
    async (protocol) => {
      const { socket, closed } = await openSocket(stack.router.url, protocol);
      socket.send(Buffer.from('{"type":"connection_init"}'), { binary: true });
      expect(await closed).toBe(4400);
      await victimStillReceives();
    },
  );

  it('refuses a 5,000-character argument before it reaches NATS; other rooms keep flowing', async () => {
    const attacker = wsClient(stack.router.url);
    const attack = subscribe(
      attacker,
      'subscription ($r: ID!) { messageAdded(roomID: $r) { id } }',
      {
        r: 'a'.repeat(5000),
      },
    );
    await expect(attack.next()).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
    ]);
    expect(stack.router.subjects).toBe(1);
    for (let i = 0; i < 10; i++) await victimStillReceives();
    const health = await fetch(stack.router.url.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    await attacker.dispose();
  });

  it.each([
    ['selection sets', `{${'a{'.repeat(20_000)}b${'}'.repeat(20_000)}}`],
    ['list values', `{ user(id: ${'['.repeat(20_000)}"1"${']'.repeat(20_000)}) { name } }`],
  ])('answers an operation with %s nested 20,000 deep with BAD_REQUEST', async (_, query) => {
    // graphql-js parses recursively: this deep, the stack overflows before maxTokens is hit.
    const sse = await fetch(stack.router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
    });
    const body = await sse.text();
    expect(body).toContain('"code":"BAD_REQUEST"');
    expect(body).toContain('nested too deeply');

    const client = wsClient(stack.router.url);
    await expect(subscribe(client, query).next()).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } }),
    ]);
    await client.dispose();
    await victimStillReceives();
  });

  it('refuses 5,000 aliases before planning: no subgraph is asked', async () => {
    const before = stack.router.counters.subgraphRequests;
    const aliases = `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: user(id: "1") { name }`).join(' ')} }`;
    const refused = await post(stack.router.url, aliases);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        extensions: { code: 'MAX_TOKENS_EXCEEDED', limit: 'maxTokens', max: 5000 },
      }),
    ]);
    const fewer = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: user(id: "1") { name }`).join(' ')} }`;
    expect((await post(stack.router.url, fewer)).body.errors).toEqual([
      expect.objectContaining({
        extensions: { code: 'MAX_ROOT_FIELDS_EXCEEDED', limit: 'maxRootFields', max: 20 },
      }),
      expect.objectContaining({
        message: "The operation is over the router's limit maxAliases (30).",
        extensions: { code: 'MAX_ALIASES_EXCEEDED', limit: 'maxAliases', max: 30 },
      }),
    ]);
    expect(stack.router.counters.subgraphRequests).toBe(before);
  });

  it('closes a legacy connection that reuses a running id with 4409, as graphql-ws does', async () => {
    const { socket, closed } = await openSocket(stack.router.url, 'graphql-ws');
    const start = JSON.stringify({
      type: 'start',
      id: '1',
      payload: { query: 'subscription { messageAdded(roomID: "dup") { id } }' },
    });
    socket.send(start);
    await stack.subscribedOn('room.dup.messages');
    socket.send(start);
    expect(await closed).toBe(4409);
    await stack.subscribedOn('room.dup.messages', 0);
    await victimStillReceives();
  });

  it.each(['next', 'error', 'connection_ack'])(
    'closes a graphql-transport-ws client that sends the server message %s with 4400',
    async (type) => {
      const { socket, closed } = await openSocket(stack.router.url, 'graphql-transport-ws');
      socket.send(JSON.stringify({ type, id: '1', payload: {} }));
      expect(await closed).toBe(4400);
    },
  );

  it('keeps one subscription for subscribe, complete, subscribe of one id sent at once', async () => {
    const { socket, closed } = await openSocket(stack.router.url, 'graphql-transport-ws');
    const subscribe = JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { messageAdded(roomID: "reuse") { id } }' },
    });
    socket.send(subscribe);
    socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    socket.send(subscribe);
    await stack.subscribedOn('room.reuse.messages');
    await waitFor('one subscription besides the victim', () => stack.router.subscriptions === 2);
    const next = messages(socket);
    stack.publish('room.reuse.messages', { __typename: 'Message', id: '1' });
    expect(await next()).toMatchObject({ id: '1', type: 'next' });
    socket.close();
    await closed;
    await waitFor('only the victim', () => stack.router.subscriptions === 1);
    await stack.subscribedOn('room.reuse.messages', 0);
  });

  it('closes a graphql-transport-ws client that floods more messages than it lets run', async () => {
    const { socket, closed } = await openSocket(stack.router.url, 'graphql-transport-ws');
    const subscribe = (id: number) =>
      JSON.stringify({ id: String(id), type: 'subscribe', payload: { query: '{ __typename }' } });
    for (let id = 0; id < 5000; id++) socket.send(subscribe(id));
    expect(await closed).toBe(4400);
    await victimStillReceives();
  });

  it('refuses a legacy start whose variables are not an object with 4400', async () => {
    const { socket, closed } = await openSocket(stack.router.url, 'graphql-ws');
    socket.send(
      JSON.stringify({
        type: 'start',
        id: '1',
        payload: { query: '{ __typename }', variables: 'x' },
      }),
    );
    expect(await closed).toBe(4400);
  });
});

describe('subscriptions per connection', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.maxSubscriptionsPerConnection = 3;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const room = (i: number) => `subscription { messageAdded(roomID: "cap${i}") { id } }`;

  it('refuses the graphql-transport-ws subscription over the cap; the others go on', async () => {
    const client = wsClient(router.url);
    const subs = [0, 1, 2].map((i) => subscribe<{ messageAdded: { id: string } }>(client, room(i)));
    await waitFor('three subscriptions', () => router.subscriptions === 3);
    const refused = subscribe(client, room(3));
    await expect(refused.next()).rejects.toEqual([
      expect.objectContaining({
        message: expect.stringContaining('(maxSubscriptionsPerConnection)'),
        extensions: {
          code: 'TOO_MANY_SUBSCRIPTIONS',
          limit: 'maxSubscriptionsPerConnection',
          max: 3,
        },
      }),
    ]);
    expect(router.counters.subscriptionsRefused).toBe(1);
    expect(router.subjects).toBe(3);

    // The router counts a subject at once; its stream consumer exists a round trip later.
    await stack.subscribedOn('room.cap0.messages');
    stack.publish('room.cap0.messages', { __typename: 'Message', id: '1' });
    expect((await subs[0]!.next()).data?.messageAdded.id).toBe('1');
    // A place freed is a place to use again.
    await subs[2]!.unsubscribe();
    await waitFor('two subscriptions', () => router.subscriptions === 2);
    const again = subscribe<{ messageAdded: { id: string } }>(client, room(3));
    await waitFor('three subscriptions', () => router.subscriptions === 3);
    await stack.subscribedOn('room.cap3.messages');
    stack.publish('room.cap3.messages', { __typename: 'Message', id: '2' });
    expect((await again.next()).data?.messageAdded.id).toBe('2');
    await client.dispose();
    await waitFor('no subscriptions', () => router.subscriptions === 0);
  });

  it('refuses the legacy subscription over the cap with an error message', async () => {
    const { socket } = await openSocket(router.url, 'graphql-ws');
    const next = messages(socket);
    for (let i = 0; i < 4; i++) {
      socket.send(JSON.stringify({ type: 'start', id: String(i), payload: { query: room(i) } }));
    }
    expect(await next()).toEqual({
      type: 'error',
      id: '3',
      payload: [
        expect.objectContaining({
          extensions: {
            code: 'TOO_MANY_SUBSCRIPTIONS',
            limit: 'maxSubscriptionsPerConnection',
            max: 3,
          },
        }),
      ],
    });
    await waitFor('three subscriptions', () => router.subscriptions === 3);
    socket.close();
    await waitFor('no subscriptions', () => router.subscriptions === 0);
  });
});
