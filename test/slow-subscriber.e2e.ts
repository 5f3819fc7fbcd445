import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';

const QUERY = 'subscription { messageAdded(roomID: "flood") { id text } }';
const BURST = 'subscription { messageAdded(roomID: "burst") { id } }';

/** A graphql-transport-ws client that subscribes, then stops reading its socket. */
async function stalledSubscriber(url: string): Promise<{ socket: WebSocket; resume(): void }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
  // ws keeps its TCP socket private; pausing it is how a client that stops reading looks.
  const tcp = (socket as unknown as { _socket: Socket })._socket;
  return { socket, resume: () => tcp.resume() };
}

describe('a subscriber that does not keep up', () => {
  let stack: TestStack;
  let router: Router;
  let messageId: string;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.slowSubscriberLimit = 50;
    });
    const added = await post<{ addMessage: { id: string } }>(
      router.url,
      'mutation ($text: String!) { addMessage(roomID: "setup", text: $text, userID: "1") { id } }',
      { text: 'x'.repeat(100_000) },
    );
    messageId = added.body.data!.addMessage.id;
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  it('keeps a client that reads, even when a burst puts it far past the limit', async () => {
    const client = wsClient(router.url);
    const sub = subscribe<{ messageAdded: { id: string } }>(client, BURST);
    await waitFor('the subscription', () => router.subscriptions === 1);
    await stack.subscribedOn('room.burst.messages');

    for (let i = 0; i < 500; i++)
      stack.publish('room.burst.messages', { __typename: 'Message', id: '1' });

    for (let i = 0; i < 500; i++) expect((await sub.next()).data?.messageAdded.id).toBe('1');
    expect(router.counters.slowSubscriberCloses).toBe(0);
    await client.dispose();
    await waitFor('the client to leave', () => router.subscriptions === 0);
  });

  it('is closed with 1013 and counted, while the others get every event', async () => {
    const good = wsClient(router.url);
    const sub = subscribe<{ messageAdded: { id: string } }>(good, QUERY);
    const slow = await stalledSubscriber(router.url);
    await waitFor('both subscriptions', () => router.subscriptions === 2);
    await stack.subscribedOn('room.flood.messages');
    slow.socket.pause();
    const closed = new Promise<number>((resolve) => slow.socket.once('close', resolve));

    let published = 0;
    let received = 0;
    while (router.counters.slowSubscriberCloses === 0 && published < 2_000) {
      for (let i = 0; i < 20; i++) {
        stack.publish('room.flood.messages', { __typename: 'Message', id: messageId });
      }
      published += 20;
      for (; received < published; received++) {
        expect((await sub.next()).data?.messageAdded.id).toBe(messageId);
      }
    }

    expect(router.counters.slowSubscriberCloses).toBe(1);
    expect(router.subscriptions).toBe(1);
    stack.publish('room.flood.messages', { __typename: 'Message', id: messageId });
    expect((await sub.next()).data?.messageAdded.id).toBe(messageId);

    slow.socket.resume();
    slow.resume();
    expect(await closed).toBe(1013);
    await good.dispose();
  });
});
