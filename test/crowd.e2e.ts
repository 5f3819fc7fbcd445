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
/**
 * Three events, in this order; each subscription must get each once, in order. The last is
 * a sentinel: a late duplicate of an earlier one (a subscription started twice) would come
 * before it, since a connection's results go out in order.
 */
const EVENTS = [
  { __typename: 'Message', id: '1' },
  { __typename: 'Message', id: '2' },
  { __typename: 'Message', id: '1' },
];
const TEXTS = ['Hello, Bob!', 'Hi Alice!', 'Hello, Bob!'];

const query = (room: string) => `subscription { messageAdded(roomID: "${room}") { id text } }`;

/** The message texts in what a subscription received, in order. */
const textsIn = (received: string): string[] =>
  [...received.matchAll(new RegExp([...new Set(TEXTS)].join('|'), 'g'))].map(([text]) => text);

/**
 * A crowd's subscriptions over one transport. `received` waits until each has as many
 * results as there are events and gives what each got.
 */
interface Crowd {
  received(): Promise<string[][]>;
  close(): Promise<void>;
}

const transports: Record<string, (stack: TestStack, room: string) => Promise<Crowd>> = {
  async 'graphql-transport-ws'(stack, room) {
    const clients = Array.from({ length: CROWD }, () => wsClient(stack.router.url));
    const subscriptions = clients.map((client) => subscribe(client, query(room)));
    return {
      received: () =>
        Promise.all(
          subscriptions.map(async (subscription) => {
            const texts: string[] = [];
            while (texts.length < TEXTS.length) {
              const result = JSON.stringify(await subscription.next());
              texts.push(textsIn(result)[0] ?? result); // an error shows as itself
            }
            return texts;
          }),
        ),
      close: async () => void (await Promise.all(clients.map((c) => c.dispose()))),
    };
  },
  async 'subscriptions-transport-ws, all on one connection'(stack, room) {
    const socket = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    const texts = Array.from({ length: CROWD }, (): string[] => []);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
      if (message.type === 'data') {
        texts[Number(message.id)]!.push(...textsIn(JSON.stringify(message.payload)));
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
        await waitFor('every operation has every event', () =>
          texts.every((got) => got.length >= TEXTS.length),
        );
        return texts;
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
      const all = (text: string) => textsIn(text).length >= TEXTS.length;
      await Promise.all(streams.map((s) => s.until('every event', all)));
      return streams.map((s) => textsIn(s.text));
    },
    close: async () => {
      for (const stream of streams) stream.close();
      await Promise.all(streams.map((s) => s.ended));
    },
  };
}

// That the router starts them a few per turn is core.test.ts's (RouterCore.turn); this is
// that no transport loses or doubles one of a crowd on the way.
describe('a crowd subscribing at once', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each(Object.keys(transports))(
    'over %s: every subscription starts and gets each event once, in order',
    async (transport) => {
      const room = `crowd-${transport.replace(/\W+/g, '-')}`;
      const crowd = await transports[transport]!(stack, room);
      await stack.subscriptionsOpen(CROWD);
      await stack.subscribedOn(`room.${room}.messages`);

      for (const event of EVENTS) stack.publish(`room.${room}.messages`, event);

      expect(await crowd.received()).toEqual(Array.from({ length: CROWD }, () => TEXTS));
      await crowd.close();
      await stack.subscriptionsOpen(0);
      await stack.subscribedOn(`room.${room}.messages`, 0);
    },
  );
});
