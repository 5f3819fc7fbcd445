import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { subscribe, wsClient } from './support/graphql.js';
import { sseClient, subscribeSse } from './support/sse.js';
import { startRecordingProxy, type RecordingProxy } from './support/recording-proxy.js';
import { waitFor } from './support/wait.js';

const SUBSCRIPTION =
  'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id text user { name } } }';
const JOINED = {
  data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: { name: 'Alice' } } },
};

describe('header forwarding: what a caller sends on reaches only its own fetches', () => {
  let stack: TestStack;
  let proxies: { message: RecordingProxy; user: RecordingProxy };
  /** Forwards x-tenant; its subgraph requests go through the recording proxies. */
  let router: Router;
  const clients: Client[] = [];
  const client = (params?: Record<string, unknown>, url = router.url): Client => {
    const created = wsClient(url, params);
    clients.push(created);
    return created;
  };
  /** The x-tenant of each request a proxy recorded after `from`. */
  const tenants = (proxy: RecordingProxy, from: number) =>
    proxy.requests.slice(from).map((r) => r.headers['x-tenant']);

  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    proxies = {
      message: await startRecordingProxy(stack.subgraphs.message.url),
      user: await startRecordingProxy(stack.subgraphs.user.url),
    };
    router = await startRouterWith(stack, (config) => {
      config.headers.forward = ['x-tenant'];
      config.subgraphs['message']!.url = proxies.message.url;
      config.subgraphs['user']!.url = proxies.user.url;
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await router?.close();
    await Promise.all([proxies?.message.close(), proxies?.user.close()]);
    await stack?.close();
  });

  it("sends a query caller's header to every subgraph the query reaches, and no other header", async () => {
    const before = { message: proxies.message.requests.length, user: proxies.user.requests.length };
    const response = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant': 'acme', cookie: 'secret=1' },
      body: JSON.stringify({ query: '{ message(id: "1") { text user { name } } }' }),
    });
    expect(await response.json()).toEqual({
      data: { message: { text: 'Hello, Bob!', user: { name: 'Alice' } } },
    });
    expect(tenants(proxies.message, before.message)).toEqual(['acme']);
    expect(tenants(proxies.user, before.user)).toEqual(['acme']);
    expect(proxies.message.requests.at(-1)!.headers['cookie']).toBeUndefined();
  });

  it('keeps callers that forward different values in different groups and batches', async () => {
    const a1 = subscribe(client({ 'x-tenant': 'a' }), SUBSCRIPTION, { roomID: 'fw' });
    const a2 = subscribe(client({ 'x-tenant': 'a' }), SUBSCRIPTION, { roomID: 'fw' });
    const b = subscribe(client({ 'x-tenant': 'b' }), SUBSCRIPTION, { roomID: 'fw' });
    // SSE takes the header from the request: it joins tenant a's group.
    const sse = subscribeSse(sseClient(router.url, { 'x-tenant': 'a' }), SUBSCRIPTION, {
      roomID: 'fw',
    });
    await waitFor('4 subscriptions', () => router.subscriptions === 4);
    await stack.subscribedOn('room.fw.messages');
    expect(router.groups).toBe(2);
    const before = { message: proxies.message.requests.length, user: proxies.user.requests.length };

    stack.publish('room.fw.messages', { __typename: 'Message', id: '1' });

    for (const result of await Promise.all([a1.next(), a2.next(), b.next(), sse.next()])) {
      expect(result).toEqual(JOINED);
    }
    // Both groups fetch at once; merged, b's fetch would have gone with a's header.
    for (const proxy of [proxies.message, proxies.user]) {
      const sent = proxy.requests.slice(proxy === proxies.message ? before.message : before.user);
      expect(sent.map((r) => r.headers['x-tenant']).sort()).toEqual(['a', 'b']);
      for (const request of sent) {
        expect(request.body.variables?.['representations']).toHaveLength(1);
      }
    }
    await Promise.all([a1.unsubscribe(), a2.unsubscribe(), b.unsubscribe()]);
    sse.unsubscribe();
  });

  it('shares one group among callers whatever they send when nothing is forwarded', async () => {
    // The stack's own router forwards nothing.
    const subs = ['a', 'b', 'c'].map((tenant) =>
      subscribe(client({ 'x-tenant': tenant }, stack.router.url), SUBSCRIPTION, { roomID: 'nf' }),
    );
    await stack.subscriptionsOpen(3);
    await stack.subscribedOn('room.nf.messages');
    expect(stack.router.groups).toBe(1);
    const before = stack.router.counters.subgraphRequests;

    stack.publish('room.nf.messages', { __typename: 'Message', id: '1' });

    for (const result of await Promise.all(subs.map((s) => s.next()))) {
      expect(result).toEqual(JOINED);
    }
    expect(stack.router.counters.subgraphRequests - before).toBe(2); // message, then user
    await Promise.all(subs.map((s) => s.unsubscribe()));
  });

  it('refuses a forwarded value that is not a header value, and nothing is subscribed', async () => {
    const open = router.subscriptions;
    const refused = client({ 'x-tenant': 'a\r\nx-admin: yes' });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      refused.on('closed', (event) => resolve(event as { code: number; reason: string })),
    );
    const sub = subscribe(refused, SUBSCRIPTION, { roomID: 'bad' });
    await expect(sub.next()).rejects.toBeDefined();
    expect((await closed).code).toBe(4400);
    expect(router.subscriptions).toBe(open);

    const response = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant': 'a'.repeat(9000) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [
        { message: expect.stringContaining('"x-tenant"'), extensions: { code: 'BAD_REQUEST' } },
      ],
    });
  });
});
