import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { subscribe, wsClient } from './support/graphql.js';
import { openHttpStream, type HttpStream } from './support/http-stream.js';
import { parseEvents } from './support/sse.js';
import { waitFor } from './support/wait.js';

const SSE = 'text/event-stream';
const MULTIPART = 'multipart/mixed;subscriptionSpec=1.0';
const room = (id: string) => `subscription { messageAdded(roomID: "${id}") { id text } }`;
const EVENT = { __typename: 'Message', id: '1' };
const RESULT = { data: { messageAdded: { id: '1', text: 'Hello, Bob!' } } };

/** The `next` payloads an SSE body holds so far. */
const sseResults = (text: string): unknown[] =>
  parseEvents(text.slice(0, text.lastIndexOf('\n\n') + 2))
    .filter((event) => event['event'] === 'next')
    .map((event) => JSON.parse(event['data']!) as unknown);

/** Resolves once an SSE stream has received `count` results. */
const sseResult = (stream: HttpStream, count = 1): Promise<unknown> =>
  stream
    .until(`${count} SSE result(s)`, (text) => sseResults(text).length >= count)
    .then((text) => sseResults(text)[count - 1]);

/** Resolves once a multipart stream holds a part with `payload`. */
const multipartResult = (stream: HttpStream): Promise<unknown> =>
  stream
    .until('a multipart result', (text) => text.includes('{"payload":'))
    .then((text) => {
      const part = text.slice(text.indexOf('{"payload":'));
      return (JSON.parse(part.slice(0, part.indexOf('\r\n'))) as { payload: unknown }).payload;
    });

const metrics = async (router: Router): Promise<string> =>
  (await fetch(new URL('/metrics', router.url))).text();

/** A raw WebSocket on `protocol`, and the close code and reason it ends with. */
function rawSocket(url: string, protocol: string) {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), protocol);
  socket.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    if (message['type'] !== 'ka') messages.push(message);
  });
  const message = (type: string): Promise<Record<string, unknown>> =>
    waitFor(`a ${type} message`, () => messages.some((m) => m['type'] === type)).then(() =>
      messages.find((m) => m['type'] === type)!,
    );
  return { socket, closed, message };
}

describe('limits.maxSubscriptions: open subscriptions per router, across transports', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    router = await startRouterWith(stack, (config) => {
      coreNats(config);
      config.limits.maxSubscriptions = 3;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const TOO_MANY = {
    message: expect.stringContaining('(maxSubscriptions)'),
    extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'maxSubscriptions', max: 3 },
  };

  it('refuses one more on every transport while the others keep receiving; a place freed is taken again', async () => {
    const client = wsClient(router.url);
    const ws = subscribe(client, room('cap-ws'));
    const sse = await openHttpStream(router.url, SSE, room('cap-sse'));
    const multipart = await openHttpStream(router.url, MULTIPART, room('cap-mp'));
    await waitFor('three subscriptions', () => router.subscriptions === 3);

    // graphql-transport-ws: an `error` message for that operation.
    const other = wsClient(router.url);
    await expect(subscribe(other, room('cap-over')).next()).rejects.toEqual([
      expect.objectContaining(TOO_MANY),
    ]);
    // The legacy protocol: its `error` message.
    const legacy = rawSocket(router.url, 'graphql-ws');
    await new Promise((resolve) => legacy.socket.once('open', resolve));
    legacy.socket.send(JSON.stringify({ type: 'connection_init' }));
    await legacy.message('connection_ack');
    legacy.socket.send(
      JSON.stringify({ type: 'start', id: '1', payload: { query: room('cap-over') } }),
    );
    expect(await legacy.message('error')).toEqual({
      type: 'error',
      id: '1',
      payload: [expect.objectContaining(TOO_MANY)],
    });
    // SSE: a `next` with the errors, then `complete`.
    const overSse = await openHttpStream(router.url, SSE, room('cap-over'));
    await overSse.ended;
    expect(sseResults(overSse.text)).toEqual([{ errors: [expect.objectContaining(TOO_MANY)] }]);
    // Multipart: 400 with a JSON body.
    const overMultipart = await openHttpStream(router.url, MULTIPART, room('cap-over'));
    await overMultipart.ended;
    expect(overMultipart.status).toBe(400);
    expect(JSON.parse(overMultipart.text)).toEqual({ errors: [expect.objectContaining(TOO_MANY)] });

    expect(router.counters.subscriptionsRefused).toBe(4);
    expect(await metrics(router)).toContain(
      'edfs_subscriptions_refused_total{reason="max_subscriptions"} 4',
    );
    expect(router.subscriptions).toBe(3);
    expect(await stack.nats!.subscriptionsOn('room.cap-over.messages')).toBe(0);

    // Nobody already subscribed lost anything.
    stack.publish('room.cap-ws.messages', EVENT);
    stack.publish('room.cap-sse.messages', EVENT);
    stack.publish('room.cap-mp.messages', EVENT);
    expect(await ws.next()).toEqual(RESULT);
    expect(await sseResult(sse)).toEqual(RESULT);
    expect(await multipartResult(multipart)).toEqual(RESULT);

    // Those who leave give their places back, whatever their transport.
    sse.close();
    await ws.unsubscribe();
    await waitFor('one subscription', () => router.subscriptions === 1);
    const again = await openHttpStream(router.url, SSE, room('cap-again'));
    const againWs = subscribe(other, room('cap-again'));
    await stack.subscribedOn('room.cap-again.messages');
    await waitFor('three subscriptions', () => router.subscriptions === 3);
    stack.publish('room.cap-again.messages', EVENT);
    expect(await sseResult(again)).toEqual(RESULT);
    expect(await againWs.next()).toEqual(RESULT);

    again.close();
    multipart.close();
    legacy.socket.close();
    await client.dispose();
    await other.dispose();
    await waitFor('no subscriptions', () => router.subscriptions === 0);
  });
});

describe('limits.maxConnections: WebSockets and streams per router', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    router = await startRouterWith(stack, (config) => {
      coreNats(config);
      config.limits.maxConnections = 2;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  it('closes one more WebSocket with 1013 and answers one more stream 503; then accepts again', async () => {
    const client = wsClient(router.url);
    const ws = subscribe(client, room('conn-ws'));
    const sse = await openHttpStream(router.url, SSE, room('conn-sse'));
    await waitFor('two connections', () => router.connections === 2);
    await waitFor('two subscriptions', () => router.subscriptions === 2);

    const over = rawSocket(router.url, 'graphql-transport-ws');
    expect(await over.closed).toEqual({ code: 1013, reason: 'Too many connections' });
    const TOO_MANY = {
      message: expect.stringContaining('(maxConnections)'),
      extensions: { code: 'TOO_MANY_CONNECTIONS', limit: 'maxConnections', max: 2 },
    };
    for (const accept of [SSE, MULTIPART]) {
      const refused = await openHttpStream(router.url, accept, room('conn-over'));
      await refused.ended;
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(refused.text)).toEqual({ errors: [TOO_MANY] });
    }
    expect(router.counters.connectionsRefused).toBe(3);
    expect(await metrics(router)).toContain(
      'edfs_connections_refused_total{reason="max_connections"} 3',
    );
    expect(router.connections).toBe(2);

    stack.publish('room.conn-ws.messages', EVENT);
    stack.publish('room.conn-sse.messages', EVENT);
    expect(await ws.next()).toEqual(RESULT);
    expect(await sseResult(sse)).toEqual(RESULT);

    sse.close();
    await waitFor('one connection', () => router.connections === 1);
    const later = wsClient(router.url);
    const laterSub = subscribe(later, room('conn-later'));
    await stack.subscribedOn('room.conn-later.messages');
    stack.publish('room.conn-later.messages', EVENT);
    expect(await laterSub.next()).toEqual(RESULT);

    await client.dispose();
    await later.dispose();
    await waitFor('no connections', () => router.connections === 0);
  });
});

describe('limits.maxSubscriptionBytes: what one subscription may hold', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.limits.maxSubscriptionBytes = 4096;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const BY =
    'subscription ($room: ID!, $user: ID!) { messageAddedBy(roomID: $room, userID: $user) { id } }';
  const OVER = {
    message: expect.stringContaining('maxSubscriptionBytes (4096)'),
    extensions: {
      code: 'MAX_SUBSCRIPTION_BYTES_EXCEEDED',
      limit: 'maxSubscriptionBytes',
      max: 4096,
    },
  };

  it('refuses, in volume, subscriptions whose values or extensions are too large, before subscribing anything', async () => {
    const client = wsClient(router.url);
    const steady = subscribe(client, room('bytes-ok'));
    await stack.subscribedOn('room.bytes-ok.messages');

    // Large filter values (kept for the subscription's life), unused variables and
    // extensions: each 200 KB, 100 of them per connection on two connections.
    const large = 'u'.repeat(200_000);
    const attackers = [wsClient(router.url), wsClient(router.url)];
    const refusals = attackers.flatMap((attacker, a) =>
      Array.from({ length: 100 }, (_, i) => {
        const sub =
          i % 3 === 0
            ? subscribe(attacker, BY, { room: `b${a}`, user: `${i}-${large}` })
            : i % 3 === 1
              ? subscribe(attacker, room(`b${a}`), { unused: large })
              : subscribe(attacker, `${room(`b${a}`)} # ${large}`);
        return sub.next().then(
          () => 'delivered',
          (errors: unknown) => errors,
        );
      }),
    );
    for (const refused of await Promise.all(refusals)) {
      expect(refused).toEqual([expect.objectContaining(OVER)]);
    }
    expect(router.subscriptions).toBe(1);
    expect(await stack.nats!.subscriptionsOn('room.b0.messages')).toBe(0);

    // Over SSE: a `next` with the error, then `complete`; nothing subscribed either.
    const overSse = await openHttpStream(router.url, SSE, `${room('b-sse')} # ${large}`);
    await overSse.ended;
    expect(sseResults(overSse.text)).toEqual([{ errors: [expect.objectContaining(OVER)] }]);

    // One within the limit is served, filter value and all.
    const within = subscribe(client, BY, { room: 'bytes-ok', user: '1' });
    await waitFor('the second subscription', () => router.subscriptions === 2);
    stack.publish('room.bytes-ok.messages', EVENT);
    expect(await steady.next()).toEqual(RESULT);
    expect(await within.next()).toEqual({ data: { messageAddedBy: { id: '1' } } });

    await Promise.all([client, ...attackers].map((c) => c.dispose()));
    await waitFor('no subscriptions', () => router.subscriptions === 0);
  });
});
