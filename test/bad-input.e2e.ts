import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { listeningUrl, spawnRouter, stackEnv } from './support/cli.js';

const SUBSCRIPTION = 'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id text } }';

describe('bad input never ends a subscription or reaches a subgraph', () => {
  let stack: TestStack;
  let client: Client;

  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack.router.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
  });

  it.each([
    ['not JSON', '{"__typename":"Message",', 'not valid JSON'],
    ['not an object', '["Message", "1"]', 'not a JSON object'],
    ['a missing key', '{"__typename":"Message"}', 'every field of its key "id"'],
    [
      'a wrong __typename',
      '{"__typename":"User","id":"1"}',
      'a type that messageAdded can return (Message)',
    ],
    ['no __typename', '{"id":"1"}', 'a type that messageAdded can return'],
    [
      'a __typename nested 10,000 deep',
      `{"__typename":${'['.repeat(10_000)}${']'.repeat(10_000)},"id":"1"}`,
      'can return (Message); got an array',
    ],
  ])(
    'answers an event with %s with INVALID_EVENT, then keeps delivering',
    async (_, payload, reason) => {
      const sub = subscribe(client, SUBSCRIPTION, { roomID: 'bad' });
      await stack.subscribedOn('room.bad.messages');
      const invalidBefore = stack.router.counters.eventsInvalid;

      stack.publish('room.bad.messages', payload);
      stack.publish('room.bad.messages', { __typename: 'Message', id: '1' });

      const first = await sub.next();
      expect(first.data).toBeUndefined();
      expect(first.errors).toEqual([
        { message: expect.stringContaining(reason), extensions: { code: 'INVALID_EVENT' } },
      ]);
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      expect(stack.router.counters.eventsInvalid).toBe(invalidBefore + 1);
      await sub.unsubscribe();
      await stack.subscribedOn('room.bad.messages', 0);
    },
  );

  it('answers a key its subgraph does not know with ENTITY_NOT_FOUND at the field', async () => {
    const sub = subscribe(client, SUBSCRIPTION, { roomID: 'ghost' });
    await stack.subscribedOn('room.ghost.messages');

    stack.publish('room.ghost.messages', { __typename: 'Message', id: 'no-such-message' });

    expect(await sub.next()).toEqual({
      data: { messageAdded: { id: 'no-such-message', text: null } },
      errors: [
        {
          message: 'Message {"id":"no-such-message"} was not found by subgraph "message".',
          path: ['messageAdded'],
          extensions: { code: 'ENTITY_NOT_FOUND', serviceName: 'message' },
        },
      ],
    });
    // The next event that exists resolves without it.
    stack.publish('room.ghost.messages', { __typename: 'Message', id: '1' });
    expect(await sub.next()).toEqual({ data: { messageAdded: { id: '1', text: 'Hello, Bob!' } } });
    await sub.unsubscribe();
  });

  it('serializes a numeric key as the ID string the schema says', async () => {
    const sub = subscribe(client, SUBSCRIPTION, { roomID: 'numeric' });
    await stack.subscribedOn('room.numeric.messages');

    stack.publish('room.numeric.messages', '{"__typename":"Message","id":2}');

    expect(await sub.next()).toEqual({ data: { messageAdded: { id: '2', text: 'Hi Alice!' } } });
    await sub.unsubscribe();
  });

  it.each(['>', '*', 'a.b', '', ' ', 'room 1', '1.>', 'a'.repeat(129), 'é', 'a\u0000b'])(
    'refuses roomID %j and subscribes to nothing',
    async (roomID) => {
      const sub = subscribe(client, SUBSCRIPTION, { roomID });
      await expect(sub.next()).rejects.toEqual([
        expect.objectContaining({
          message: expect.stringContaining('must be one subject token: 1 to 128 ASCII letters'),
          extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' },
        }),
      ]);
      expect(stack.router.subjects).toBe(0);
    },
  );

  it('refuses a wildcard written inline, not only through variables', async () => {
    const sub = subscribe(client, 'subscription { messageAdded(roomID: "*") { id } }');
    await expect(sub.next()).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
    ]);
  });

  it('refuses null for a variable with a default used where a value is required, naming it', async () => {
    const query = 'query ($s: Boolean = true) { user(id: "1") { name @include(if: $s) } }';
    const refused = await post(stack.router.url, query, { s: null });
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 400,
      body: {
        errors: [
          expect.objectContaining({
            message: expect.stringContaining('"$s" is used where a value of type "Boolean!"'),
            extensions: { code: 'BAD_USER_INPUT' },
          }),
        ],
      },
    });
    // Left out, it takes its default.
    expect((await post(stack.router.url, query, {})).body).toEqual({
      data: { user: { name: 'Alice' } },
    });
  });

  it('refuses a missing required argument with a validation error', async () => {
    const sub = subscribe(
      client,
      'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id } }',
      {},
    );
    await expect(sub.next()).rejects.toEqual([
      expect.objectContaining({
        message: expect.stringContaining('"$roomID" of required type "ID!" was not provided'),
      }),
    ]);
  });

  it('refuses a subscription that selects a field the schema lacks', async () => {
    const sub = subscribe(client, 'subscription { messageAdded(roomID: "1") { nope } }');
    await expect(sub.next()).rejects.toEqual([
      expect.objectContaining({ message: 'Cannot query field "nope" on type "Message".' }),
    ]);
  });

  it.each([
    [
      'a GET whose URL is over 16 KiB',
      `GET /graphql?query=${'%7B'.repeat(8_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      431,
      'over 16 KiB',
    ],
    ['a request that is not HTTP', 'HELLO ROUTER\r\n\r\n', 400, 'not valid HTTP'],
  ])(
    'answers %s with its status and a GraphQL error, then serves others',
    async (_, raw, status, message) => {
      const { hostname, port } = new URL(stack.router.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end(raw));
        let text = '';
        socket.on('data', (chunk) => (text += String(chunk)));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(head).toContain('content-type: application/json');
      expect(JSON.parse(body!)).toEqual({
        errors: [
          { message: expect.stringContaining(message), extensions: { code: 'BAD_REQUEST' } },
        ],
      });
      expect((await post(stack.router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
    },
  );

  it('closes a connection whose message is over maxPayloadBytes with 1009', async () => {
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1_100_000) } }),
    );
    expect(await closed).toBe(1009);
  });

  it('closes a connection that sends a malformed frame, and serves the next client', async () => {
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('{ this is not json');
    expect(await closed).toBe(4400);

    const sub = subscribe(client, SUBSCRIPTION, { roomID: 'after' });
    await stack.subscribedOn('room.after.messages');
    stack.publish('room.after.messages', { __typename: 'Message', id: '2' });
    expect(await sub.next()).toEqual({ data: { messageAdded: { id: '2', text: 'Hi Alice!' } } });
    await sub.unsubscribe();
  });
});

describe('a flood of invalid events', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('writes a few log lines for them, counts every one, and still delivers the next event', async () => {
    const router = spawnRouter([], { PORT: '0', ...stackEnv(stack) });
    let invalidLines = 0;
    let skipped = 0;
    createInterface({ input: router.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; skipped?: number };
      if (entry.msg !== 'invalid event') return;
      invalidLines++;
      skipped += entry.skipped ?? 0;
    });
    try {
      const url = await listeningUrl(router);
      const client = wsClient(url);
      const sub = subscribe(client, SUBSCRIPTION, { roomID: 'flood' });
      await stack.subscribedOn('room.flood.messages');
      for (let i = 0; i < 500; i++) stack.publish('room.flood.messages', `not json ${i}`);
      stack.publish('room.flood.messages', { __typename: 'Message', id: '1' });
      let invalid = 0;
      for (let next = await sub.next(); next.errors; next = await sub.next()) invalid++;
      expect(invalid).toBe(500); // the subscriber is told of each one
      const metrics = await (await fetch(url.replace('/graphql', '/metrics'))).text();
      expect(metrics).toContain('edfs_events_invalid_total{field="messageAdded"} 500');
      expect(invalidLines).toBeGreaterThan(0);
      expect(invalidLines).toBeLessThanOrEqual(10); // one interval's worth, not 500
      expect(skipped).toBe(0); // said by the next line written, in a later interval
      await client.dispose();
    } finally {
      router.kill('SIGTERM');
    }
  });
});
