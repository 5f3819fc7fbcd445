import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-sse';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith, startRouterWithUserDown } from './support/routers.js';
import { startRestrictedNats, type RestrictedNats } from './support/restricted-nats.js';
import { sseClient, subscribeSse } from './support/sse.js';
import { MESSAGE_ADDED, post } from './support/graphql.js';
import { waitFor } from './support/wait.js';

describe('GraphQL over SSE when a subgraph is down', () => {
  let stack: TestStack;
  let router: Router;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWithUserDown(stack);
    client = sseClient(router.url);
  });
  afterAll(async () => {
    client?.dispose();
    await router?.close();
    await stack?.close();
  });

  it('gives partial data with SUBGRAPH_UNAVAILABLE and keeps the stream open', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'partial' });
    await stack.subscribedOn('room.partial.messages');

    stack.publish('room.partial.messages', { __typename: 'Message', id: '1' });
    stack.publish('room.partial.messages', { __typename: 'Message', id: '2' });

    for (const [id, text] of [
      ['1', 'Hello, Bob!'],
      ['2', 'Hi Alice!'],
    ]) {
      const result = await sub.next();
      expect(result.data).toEqual({ messageAdded: { id, text, user: null } });
      expect(result.errors).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({
            code: 'SUBGRAPH_UNAVAILABLE',
            serviceName: 'user',
          }),
        }),
      ]);
    }
    sub.unsubscribe();
  });
});

describe('GraphQL over SSE when NATS ends the subscription', () => {
  let nats: RestrictedNats;
  let stack: TestStack;
  let client: Client;
  beforeAll(async () => {
    nats = await startRestrictedNats('room.forbidden.messages');
    stack = await startTestStack({ natsUrl: nats.url, configure: coreNats });
    client = sseClient(stack.router.url);
  });
  afterAll(async () => {
    client?.dispose();
    await stack?.close();
    await nats?.stop();
  });

  it('sends SUBSCRIPTION_FAILED as a next event, then complete', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'forbidden' });
    expect(await sub.next()).toEqual({
      errors: [
        {
          message: 'The event stream for this subscription failed.',
          extensions: { code: 'SUBSCRIPTION_FAILED' },
        },
      ],
    });
    await sub.completed;
    expect(stack.router.subscriptions).toBe(0);
  });
});

describe('an SSE client that stops reading', () => {
  const QUERY = 'subscription { messageAdded(roomID: "sse-flood") { id text } }';
  let stack: TestStack;
  let router: Router;
  let client: Client;
  let messageId: string;
  beforeAll(async () => {
    // Core NATS: the test waits for the broker's subscription before it publishes; a stream
    // consumer that is not there yet would miss the first events and hang the good client.
    stack = await startTestStack({ configure: coreNats });
    router = await startRouterWith(stack, (config) => {
      config.slowSubscriberLimit = 50;
    });
    client = sseClient(router.url);
    const added = await post<{ addMessage: { id: string } }>(
      router.url,
      'mutation ($text: String!) { addMessage(roomID: "setup", text: $text, userID: "1") { id } }',
      { text: 'x'.repeat(100_000) },
    );
    messageId = added.body.data!.addMessage.id;
  });
  afterAll(async () => {
    client?.dispose();
    await router?.close();
    await stack?.close();
  });

  it('is dropped and its connection cut, while the others get every event', async () => {
    const good = subscribeSse<{ messageAdded: { id: string } }>(client, QUERY);
    // A raw socket that sends the request, then stops reading what comes back.
    const { port } = new URL(router.url);
    const stalled = connect(Number(port), '127.0.0.1');
    const body = JSON.stringify({ query: QUERY });
    stalled.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const closed = new Promise((resolve) => stalled.once('close', resolve));
    await waitFor('both subscriptions', () => router.subscriptions === 2);
    await stack.subscribedOn('room.sse-flood.messages');
    stalled.pause();

    let published = 0;
    let received = 0;
    while (router.counters.slowSubscriberCloses === 0 && published < 2_000) {
      for (let i = 0; i < 20; i++) {
        stack.publish('room.sse-flood.messages', { __typename: 'Message', id: messageId });
      }
      published += 20;
      for (; received < published; received++) {
        expect((await good.next()).data?.messageAdded.id).toBe(messageId);
      }
    }

    expect(router.counters.slowSubscriberCloses).toBe(1);
    expect(router.subscriptions).toBe(1);
    stalled.resume();
    await closed;
    stack.publish('room.sse-flood.messages', { __typename: 'Message', id: messageId });
    expect((await good.next()).data?.messageAdded.id).toBe(messageId);
    good.unsubscribe();
  });
});
