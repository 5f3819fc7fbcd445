import type { Subscription as NatsSubscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router, RouterConfig } from '@edfs/router';
import { removeDir, tempDir } from './support/broker-process.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { startRestrictedNats } from './support/restricted-nats.js';
import { closedPort, eventsSdlIn, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';

/**
 * An events graph with a publish and a request field, linking our spec so that the
 * supergraph carries every binding (the provider suite reads them from the SDL instead).
 */
const EVENTS_SDL = `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])
  @link(url: "https://edfs.dev/events/v1.0", import: ["@eventsSubscribe", "@eventsPublish", "@eventsRequest"])
  @composeDirective(name: "@eventsSubscribe")
  @composeDirective(name: "@eventsPublish")
  @composeDirective(name: "@eventsRequest")

directive @eventsSubscribe(topic: String!, providerId: String = "default") on FIELD_DEFINITION
directive @eventsPublish(topic: String!, providerId: String = "default") on FIELD_DEFINITION
directive @eventsRequest(topic: String!, providerId: String = "default") on FIELD_DEFINITION

type Subscription {
  messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "room.{{ args.roomID }}.messages")
}
type Mutation {
  announce(roomID: ID!, id: ID!): EventsPublishResult!
    @eventsPublish(topic: "room.{{ args.roomID }}.messages")
}
type Query {
  pinnedMessage(roomID: ID!): Message @eventsRequest(topic: "room.{{ args.roomID }}.pinned")
}
type EventsPublishResult {
  success: Boolean!
}
type Message @key(fields: "id", resolvable: false) {
  id: ID!
}
`;

const REQUEST_TIMEOUT_MS = 300;
const announce = (roomID: string, id = '1') =>
  `mutation { announce(roomID: "${roomID}", id: "${id}") { success } }`;
const pinned = (roomID: string) => `{ pinnedMessage(roomID: "${roomID}") { id text } }`;

describe('@eventsPublish and @eventsRequest on NATS', () => {
  let stack: TestStack;
  let dir: string;
  const configure = (config: RouterConfig): void => {
    eventsSdlIn(() => dir, EVENTS_SDL)(config);
    config.events.requestTimeoutMs = REQUEST_TIMEOUT_MS;
  };

  beforeAll(async () => {
    dir = tempDir('publish');
    stack = await startTestStack({ configure });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    if (dir) removeDir(dir);
  });

  it('publishes the entity key a mutation names, byte for byte, to subscribers and NATS', async () => {
    const raw = stack.nc.subscribe('room.pub.messages', { max: 1 });
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<{ messageAdded: { id: string; text: string } }>(
        client,
        'subscription { messageAdded(roomID: "pub") { id text } }',
      );
      await stack.subscribedOn('room.pub.messages', 2);
      expect((await post(stack.router.url, announce('pub'))).body).toEqual({
        data: { announce: { success: true } },
      });
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      expect(await taken(raw, 1)).toEqual(['{"__typename":"Message","id":"1"}']);
    } finally {
      await client.dispose();
    }
  });

  it('refuses an argument that is not one subject token, publishing nothing', async () => {
    let published = 0;
    const everything = stack.nc.subscribe('>', { callback: () => void published++ });
    await stack.nc.flush();
    try {
      for (const roomID of ['*', '>', 'a.b', 'a b', '']) {
        expect((await post(stack.router.url, announce(roomID))).body).toEqual({
          data: { announce: { success: false } },
          errors: [
            expect.objectContaining({
              path: ['announce'],
              extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' },
            }),
          ],
        });
      }
      // A publish the router made would reach this client before the answer to its PING.
      await stack.nc.flush();
      expect(published).toBe(0);
    } finally {
      everything.unsubscribe();
    }
  });

  it('answers each aliased publish of one mutation on its own, in order', async () => {
    const raw = stack.nc.subscribe('room.alias.messages', { max: 2 });
    await stack.nc.flush();
    const mutation = `mutation Two($room: ID!) {
      first: announce(roomID: $room, id: "1") { success }
      refused: announce(roomID: "a.b", id: "2") { ok: success }
      second: announce(roomID: $room, id: "2") { __typename success }
    }`;
    expect((await post(stack.router.url, mutation, { room: 'alias' })).body).toEqual({
      data: {
        first: { success: true },
        refused: { ok: false },
        second: { __typename: 'EventsPublishResult', success: true },
      },
      errors: [
        expect.objectContaining({
          path: ['refused'],
          extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' },
        }),
      ],
    });
    expect(await taken(raw, 2)).toEqual([
      '{"__typename":"Message","id":"1"}',
      '{"__typename":"Message","id":"2"}',
    ]);
  });

  it('answers a query with the reply of a responder, resolved through the subgraphs', async () => {
    const requests: string[] = [];
    const responder = stack.nc.subscribe('room.r1.pinned', {
      callback: (_error, message) => {
        requests.push(message.string());
        message.respond(JSON.stringify({ __typename: 'Message', id: '1', extra: true }));
      },
    });
    await stack.nc.flush();
    try {
      const query = 'query Pinned($room: ID!) { pinnedMessage(roomID: $room) { id text } }';
      expect((await post(stack.router.url, query, { room: 'r1' })).body).toEqual({
        data: { pinnedMessage: { id: '1', text: 'Hello, Bob!' } },
      });
      // The request carries the field's arguments.
      expect(requests).toEqual(['{"roomID":"r1"}']);
    } finally {
      responder.unsubscribe();
    }
  });

  it.each([
    ['of another type', JSON.stringify({ __typename: 'User' })],
    ['nested 10,000 deep', `{"__typename":${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
  ])('answers a reply that is not an event (%s) with INVALID_EVENT', async (_, reply) => {
    const responder = stack.nc.subscribe('room.bad.pinned', {
      callback: (_error, message) => message.respond(reply),
    });
    await stack.nc.flush();
    try {
      expect((await post(stack.router.url, pinned('bad'))).body).toEqual({
        data: { pinnedMessage: null },
        errors: [
          expect.objectContaining({
            path: ['pinnedMessage'],
            extensions: { code: 'INVALID_EVENT' },
          }),
        ],
      });
    } finally {
      responder.unsubscribe();
    }
  });

  it('answers EVENT_REQUEST_TIMEOUT when the responder stays silent', async () => {
    let asked = 0;
    const silent = stack.nc.subscribe('room.slow.pinned', { callback: () => void asked++ });
    await stack.nc.flush(); // the server holds the subscription before the router asks
    try {
      expect((await post(stack.router.url, pinned('slow'))).body).toEqual({
        data: { pinnedMessage: null },
        errors: [
          {
            message: `No reply on "room.slow.pinned" within ${REQUEST_TIMEOUT_MS} ms.`,
            path: ['pinnedMessage'],
            extensions: { code: 'EVENT_REQUEST_TIMEOUT' },
          },
        ],
      });
      expect(asked).toBe(1);
    } finally {
      silent.unsubscribe();
    }
  });

  it('answers EVENT_REQUEST_NO_RESPONDERS when nobody listens', async () => {
    expect((await post(stack.router.url, pinned('empty'))).body).toEqual({
      data: { pinnedMessage: null },
      errors: [
        {
          message: 'Nobody answers requests on "room.empty.pinned".',
          path: ['pinnedMessage'],
          extensions: { code: 'EVENT_REQUEST_NO_RESPONDERS' },
        },
      ],
    });
  });

  it('answers success: false with EVENT_PUBLISH_FAILED when NATS refuses the subject', async () => {
    const nats = await startRestrictedNats('room.unused.messages', 'room.denied.messages');
    let restricted: Router | undefined;
    try {
      restricted = await startRouterWith(stack, (config) => {
        configure(config);
        config.nats.url = nats.url;
      });
      expect((await post(restricted.url, announce('denied'))).body).toEqual({
        data: { announce: { success: false } },
        errors: [
          expect.objectContaining({
            path: ['announce'],
            extensions: { code: 'EVENT_PUBLISH_FAILED', providerId: 'default' },
          }),
        ],
      });
      expect((await post(restricted.url, announce('allowed'))).body).toEqual({
        data: { announce: { success: true } },
      });
    } finally {
      await restricted?.close();
      await nats.stop();
    }
  });

  it('answers success: false with EVENT_PUBLISH_FAILED while NATS is down, never masked', async () => {
    const port = await closedPort();
    let down: Router | undefined;
    try {
      down = await startRouterWith(stack, (config) => {
        configure(config);
        config.nats.url = `nats://127.0.0.1:${port}`;
        // The router's own errors, which no subgraph answered, are not masked.
        config.maskSubgraphErrors = true;
      });
      expect((await post(down.url, announce('down'))).body).toEqual({
        data: { announce: { success: false } },
        errors: [
          {
            message:
              'The event was not published: provider "default" is unavailable or refused it.',
            path: ['announce'],
            extensions: { code: 'EVENT_PUBLISH_FAILED', providerId: 'default' },
          },
        ],
      });
      expect((await post(down.url, pinned('down'))).body.errors?.[0]?.extensions).toEqual({
        code: 'EVENT_REQUEST_FAILED',
        providerId: 'default',
      });
    } finally {
      await down?.close();
    }
  });
});

/** The first `count` messages a raw NATS subscription gets, as text. */
async function taken(subscription: NatsSubscription, count: number): Promise<string[]> {
  const texts: string[] = [];
  for await (const message of subscription) {
    texts.push(message.string());
    if (texts.length === count) return texts;
  }
  throw new Error(`the subscription ended after ${texts.length} message(s)`);
}
