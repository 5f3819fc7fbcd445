import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { OPERATIONS_PER_TURN } from '../router/src/core.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, wsClient } from './support/graphql.js';
import { openHttpStream } from './support/http-stream.js';
import { waitFor } from './support/wait.js';

/**
 * More than the router starts in two turns of its event loop (RouterCore.turn), and no
 * more than one connection may carry (`maxSubscriptionsPerConnection`, 100).
 */
const CROWD = 2 * OPERATIONS_PER_TURN + 5;
const EVENT = { __typename: 'Message', id: '1' };
const TEXT = 'Hello, Bob!';

const query = (room: string) => `subscription { messageAdded(roomID: "${room}") { id text } }`;

/** A crowd's subscriptions over one transport: how many results each has, and a way out. */
interface Crowd {
  received(): Promise<number[]>;
  close(): Promise<void>;
}

const transports: Record<string, (stack: TestStack, room: string) => Promise<Crowd>> = {
  async 'graphql-transport-ws'(stack, room) {
    const clients = Array.from({ length: CROWD }, () => wsClient(stack.router.url));
    const subscriptions = clients.map((client) => subscribe(client, query(room)));
    return {
      received: async () => {
        const results = await Promise.all(subscriptions.map((s) => s.next()));
        return results.map((r) => (JSON.stringify(r).includes(TEXT) ? 1 : 0));
      },
      close: async () => void (await Promise.all(clients.map((c) => c.dispose()))),
    };
  },
  async 'subscriptions-transport-ws, all on one connection'(stack, room) {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    const counts = Array.from({ length: CROWD }, () => 0);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
      if (message.type === 'data' && JSON.stringify(message.payload).includes(TEXT)) {
        counts[Number(message.id)]!++;
      }
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    for (let id = 0; id < CROWD; id++) {
      socket.send(
        JSON.stringify({ type: 'start', id: String(id), payload: { query: query(room) } }),
      );
    }
    return {
      received: async () => {
        await waitFor('every operation has its result', () => counts.every((n) => n > 0));
        return counts;
      },
      close: async () => {
        socket.close();
        await new Promise((resolve) => socket.once('close', resolve));
      },
    };
  },
  async 'GraphQL over SSE'(stack, room) {
    return httpCrowd(stack, room, 'text/event-stream');
  },
  async 'multipart HTTP'(stack, room) {
    return httpCrowd(stack, room, 'multipart/mixed;subscriptionSpec=1.0');
  },
};

async function httpCrowd(stack: TestStack, room: string, accept: string): Promise<Crowd> {
  const streams = await Promise.all(
    Array.from({ length: CROWD }, () => openHttpStream(stack.router.url, accept, query(room))),
  );
  return {
    received: async () => {
      await Promise.all(streams.map((s) => s.until('the event', (text) => text.includes(TEXT))));
      return streams.map((s) => s.text.split(TEXT).length - 1);
    },
    close: async () => {
      for (const stream of streams) stream.close();
      await Promise.all(streams.map((s) => s.ended));
    },
  };
}

describe('a crowd subscribing at once, started a few per turn of the event loop', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each(Object.keys(transports))(
    'over %s: every subscription starts and gets the event once',
    async (transport) => {
      const room = `crowd-${transport.replace(/\W+/g, '-')}`;
      const crowd = await transports[transport]!(stack, room);
      await stack.subscriptionsOpen(CROWD);
      await stack.subscribedOn(`room.${room}.messages`);

      stack.publish(`room.${room}.messages`, EVENT);

      expect(await crowd.received()).toEqual(Array.from({ length: CROWD }, () => 1));
      await crowd.close();
      await stack.subscriptionsOpen(0);
      await stack.subscribedOn(`room.${room}.messages`, 0);
    },
  );
});
