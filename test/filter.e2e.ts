import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import type { Router } from '@edfs/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, subscribe, wsClient } from './support/graphql.js';
import { startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { sign, startIssuer, type Issuer } from './support/tokens.js';
import { waitFor } from './support/wait.js';

const schemas = join(import.meta.dirname, '..', 'schemas');

/**
 * Two more fields on the example events graph: the room's messages, AND/OR/NOT-filtered,
 * and those of the caller (the token's `sub`).
 */
const MORE_FIELDS = `
  myMessageAdded(roomID: ID!): Message
    @eventsSubscribe(topic: "room.{{ args.roomID }}.messages", stream: "chat")
    @eventsFilter(condition: { IN: { fieldPath: "user.id", values: ["{{ claims.sub }}"] } })
  messageAddedWhere(roomID: ID!, userIDs: [ID!]!, exceptID: ID): Message
    @eventsSubscribe(topic: "room.{{ args.roomID }}.messages", stream: "chat")
    @eventsFilter(condition: { AND: [
      { OR: [
        { IN: { fieldPath: "user.id", values: ["{{ args.userIDs }}"] } }
        { IN: { fieldPath: "text", values: ["urgent"] } }
      ] }
      { NOT: { IN: { fieldPath: "id", values: ["{{ args.exceptID }}"] } } }
    ] })
`;

describe('@eventsFilter: a subscriber gets only the events whose resolved result matches', () => {
  let stack: TestStack;
  let client: Client;
  let dir: string;
  /** A router whose events graph also has messageAddedWhere and myMessageAdded. */
  let where: Router;
  let issuer: Issuer;
  let whereClient: Client;

  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack.router.url);
    dir = mkdtempSync(join(tmpdir(), 'edfs-filter-'));
    const events = join(dir, 'events.graphql');
    const example = readFileSync(join(schemas, 'events.graphql'), 'utf8');
    writeFileSync(
      events,
      example.replace('type Subscription {', `type Subscription {${MORE_FIELDS}`),
    );
    issuer = await startIssuer();
    where = await startRouterWith(stack, (config) => {
      config.events.schema = events;
      config.authentication = issuer.authentication();
    });
    whereClient = wsClient(where.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await whereClient?.dispose();
    await where?.close();
    await stack?.close();
    await issuer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Adds a message through the router: the message subgraph publishes its key. */
  async function addMessage(roomID: string, text: string, userID: string): Promise<string> {
    const added = await post<{ addMessage: { id: string } }>(
      stack.router.url,
      'mutation ($roomID: ID!, $text: String!, $userID: ID!) { addMessage(roomID: $roomID, text: $text, userID: $userID) { id } }',
      { roomID, text, userID },
    );
    expect(added.body.errors).toBeUndefined();
    return added.body.data!.addMessage.id;
  }

  it('gives two subscribers with different arguments only their own events, in order', async () => {
    const query =
      'subscription ($roomID: ID!, $userID: ID!) { messageAddedBy(roomID: $roomID, userID: $userID) { text } }';
    const alice = subscribe(client, query, { roomID: 'f1', userID: '1' });
    const bob = subscribe(client, query, { roomID: 'f1', userID: '2' });
    const alsoAlice = subscribe(client, query, { roomID: 'f1', userID: '1' });
    await stack.subscriptionsOpen(3);
    await stack.subscribedOn('room.f1.messages');
    // One subject; one group per rendered filter, shared by the subscribers that render it alike.
    expect(stack.router.subjects).toBe(1);
    expect(stack.router.groups).toBe(2);

    for (const [text, userID] of [
      ['a1', '1'],
      ['b1', '2'],
      ['b2', '2'],
      ['a2', '1'],
      ['b3', '2'],
      ['a3', '1'],
    ] as const) {
      await addMessage('f1', text, userID);
    }

    // The client selected no `user`: the router fetched `user.id` for the filter, then hid it.
    const texts = (...list: string[]) =>
      list.map((text) => ({ data: { messageAddedBy: { text } } }));
    const next3 = (sub: typeof alice) => Promise.all([sub.next(), sub.next(), sub.next()]);
    expect(await next3(alice)).toEqual(texts('a1', 'a2', 'a3'));
    expect(await next3(alsoAlice)).toEqual(texts('a1', 'a2', 'a3'));
    expect(await next3(bob)).toEqual(texts('b1', 'b2', 'b3'));
    await Promise.all([alice.unsubscribe(), bob.unsubscribe(), alsoAlice.unsubscribe()]);
  });

  it("refuses an operation that uses the filter's own aliases to put a value of its own there", async () => {
    const forged = subscribe(
      client,
      'subscription { messageAddedBy(roomID: "f1", userID: "1") { __edfsFilter0: user { id } text } }',
    );
    await expect(forged.next()).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
  });

  it('combines IN, AND, OR and NOT, with a list argument and an optional one', async () => {
    const query =
      'subscription ($userIDs: [ID!]!, $exceptID: ID) { messageAddedWhere(roomID: "f2", userIDs: $userIDs, exceptID: $exceptID) { id text } }';
    // Alice's messages, and urgent ones.
    const mine = subscribe(whereClient, query, { userIDs: ['1'] });
    // Alice's and Bob's messages, and urgent ones, but never message 1.
    const theirs = subscribe(whereClient, query, { userIDs: ['1', '2'], exceptID: '1' });
    try {
      await waitFor('2 open subscriptions', () => where.subscriptions === 2);
      await stack.subscribedOn('room.f2.messages');
      expect(where.groups).toBe(2);

      const publish = (id: string) =>
        stack.publish('room.f2.messages', { __typename: 'Message', id });
      publish('1'); // by Alice: "Hello, Bob!"
      publish('2'); // by Bob: "Hi Alice!"
      // The message subgraph publishes on its own connection: NATS orders messages per
      // connection only, so these two must reach the server before the mutations run.
      await stack.nc.flush();
      const urgent = await addMessage('f2', 'urgent', '2');
      const hi = await addMessage('f2', 'hi', '2');
      publish('1');

      const message = (id: string, text: string) => ({ data: { messageAddedWhere: { id, text } } });
      const hello = message('1', 'Hello, Bob!');
      expect([await mine.next(), await mine.next(), await mine.next()]).toEqual([
        hello,
        message(urgent, 'urgent'),
        hello,
      ]);
      expect([await theirs.next(), await theirs.next(), await theirs.next()]).toEqual([
        message('2', 'Hi Alice!'),
        message(urgent, 'urgent'),
        message(hi, 'hi'),
      ]);
      // Nothing else was on its way: the next result is the next event that matches.
      publish('2');
      expect(await theirs.next()).toEqual(message('2', 'Hi Alice!'));
    } finally {
      // A failed step must not leave groups behind for the next test to count.
      await Promise.all([mine.unsubscribe(), theirs.unsubscribe()]);
    }
  });

  it("fills a value in from the caller's token, and refuses a caller without the claim", async () => {
    const query = 'subscription { myMessageAdded(roomID: "f3") { id } }';
    const anonymous = subscribe(whereClient, query);
    await expect(anonymous.next()).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED', claim: 'sub' } }),
    ]);
    const as = async (sub: string) =>
      wsClient(where.url, { Authorization: `Bearer ${await sign(issuer.key, { sub })}` });
    const clients = [await as('1'), await as('2')];
    try {
      const [alice, bob] = clients.map((c) => subscribe(c, query));
      await waitFor('2 open subscriptions', () => where.subscriptions === 2);
      await stack.subscribedOn('room.f3.messages');
      // The same operation and variables, but not the same rendered filter.
      expect(where.groups).toBe(2);
      for (const id of ['2', '1', '2']) {
        stack.publish('room.f3.messages', { __typename: 'Message', id });
      }
      const ids = (...list: string[]) => list.map((id) => ({ data: { myMessageAdded: { id } } }));
      expect([await alice!.next()]).toEqual(ids('1'));
      expect([await bob!.next(), await bob!.next()]).toEqual(ids('2', '2'));
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });
});
