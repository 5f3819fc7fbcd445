import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient, type Result } from './support/graphql.js';

const MESSAGE_ADDED = /* GraphQL */ `
  subscription ($roomID: ID!) {
    messageAdded(roomID: $roomID) {
      id
      text
      createdAt
      user {
        id
        name
      }
    }
  }
`;

describe('chat: event-driven federated subscriptions', () => {
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

  it('joins a published key with the message and user subgraphs', async () => {
    const sub = subscribe(client, MESSAGE_ADDED, { roomID: '123' });
    await stack.subscribedOn('room.123.messages');

    stack.publish('room.123.messages', { __typename: 'Message', id: '1' });

    expect(await sub.next()).toEqual({
      data: {
        messageAdded: {
          id: '1',
          text: 'Hello, Bob!',
          createdAt: expect.any(String),
          user: { id: '1', name: 'Alice' },
        },
      },
    });
    await sub.unsubscribe();
    // Gone from NATS before a later test here counts the subject's consumers again.
    await stack.subscribedOn('room.123.messages', 0);
  });

  it('delivers a message added by mutation, which publishes its own key', async () => {
    const sub = subscribe(client, MESSAGE_ADDED, { roomID: '777' });
    await stack.subscribedOn('room.777.messages');

    const added = await post<{ addMessage: { id: string } }>(
      stack.router.url,
      'mutation { addMessage(roomID: "777", text: "Down the rabbit hole", userID: "2") { id } }',
    );
    expect(added.body.errors).toBeUndefined();

    expect(await sub.next()).toMatchObject({
      data: {
        messageAdded: {
          id: added.body.data!.addMessage.id,
          text: 'Down the rabbit hole',
          user: { name: 'Bob' },
        },
      },
    });
    await sub.unsubscribe();
  });

  it('keeps the client’s aliases and only the fields it selected', async () => {
    const sub = subscribe(
      client,
      'subscription { m: messageAdded(roomID: "123") { key: id author: user { name } } }',
    );
    await stack.subscribedOn('room.123.messages');

    stack.publish('room.123.messages', {
      __typename: 'Message',
      id: '2',
      text: 'ignored extra field',
    });

    // `key` is the event's own field, under the client's alias.
    expect(await sub.next()).toEqual({ data: { m: { key: '2', author: { name: 'Bob' } } } });
    await sub.unsubscribe();
  });

  it('subscribes once per subject for many clients and releases it with the last one', async () => {
    const clients = [
      wsClient(stack.router.url),
      wsClient(stack.router.url),
      wsClient(stack.router.url),
    ];
    const subs = clients.map((c, i) =>
      subscribe(c, i === 2 ? 'subscription { messageAdded(roomID: "42") { id } }' : MESSAGE_ADDED, {
        roomID: '42',
      }),
    );
    await stack.subscriptionsOpen(3);
    await stack.subscribedOn('room.42.messages', 1);
    expect(stack.router.subjects).toBe(1);

    stack.publish('room.42.messages', { __typename: 'Message', id: '2' });
    const results = await Promise.all(subs.map((s) => s.next()));
    expect(
      results.map((r) => (r.data as { messageAdded: { id: string } }).messageAdded.id),
    ).toEqual(['2', '2', '2']);
    expect(results[0]).toEqual(results[1]);

    await subs[0]!.unsubscribe();
    await subs[1]!.unsubscribe();
    expect(await stack.nats!.subscriptionsOn('room.42.messages')).toBe(1);
    await subs[2]!.unsubscribe();
    await stack.subscribedOn('room.42.messages', 0);
    expect(stack.router.subjects).toBe(0);
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it('releases the NATS subscription when the client disconnects without completing', async () => {
    const leaving = wsClient(stack.router.url);
    const sub = subscribe(leaving, MESSAGE_ADDED, { roomID: 'gone' });
    await stack.subscribedOn('room.gone.messages');
    void sub.next().catch(() => undefined);

    await leaving.dispose();

    await stack.subscribedOn('room.gone.messages', 0);
  });
});

describe('queries and mutations through the router', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers a federated query as application/graphql-response+json', async () => {
    const response = await post(
      stack.router.url,
      '{ messages(roomID: "123") { text user { name } } }',
    );
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/graphql-response\+json/);
    expect(response.body).toEqual({
      data: {
        messages: [
          { text: 'Hello, Bob!', user: { name: 'Alice' } },
          { text: 'Hi Alice!', user: { name: 'Bob' } },
        ],
      },
    });
  });

  it('answers GET with application/json for older clients', async () => {
    const url = `${stack.router.url}?query=${encodeURIComponent('{ user(id: "1") { name } }')}`;
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ data: { user: { name: 'Alice' } } });
  });

  it('refuses an invalid query with 400 and the validation error', async () => {
    const response = await post(stack.router.url, '{ nope }');
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.message).toContain('Cannot query field "nope"');
  });

  it('answers an invalid query with 200 and the errors when the client accepts application/json', async () => {
    // The GraphQL over HTTP spec: a request error is 200 for application/json (the body is
    // trusted only with 200), and 4xx only for application/graphql-response+json.
    const response = await fetch(stack.router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ nope }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Result;
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toContain('Cannot query field "nope"');
  });

  it.each([
    ['application/json', 'a query'],
    ['text/event-stream', 'an SSE stream'],
    ['multipart/mixed;subscriptionSpec=1.0', 'a multipart stream'],
  ])(
    'refuses a batch (a JSON array) sent as %s (%s) with 400, saying batching is not supported',
    async (accept) => {
      const response = await fetch(stack.router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: ` ${JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])}`,
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as Result;
      expect(body.errors?.[0]?.message).toBe(
        'Batched requests (a JSON array of operations) are not supported: send one operation per request.',
      );
    },
  );

  it.each([
    ['application/json', 'variables'],
    ['text/event-stream', 'variables'],
    ['multipart/mixed;subscriptionSpec=1.0', 'extensions'],
  ])('refuses a GET (Accept %s) whose %s is not JSON with 400, naming it', async (accept, name) => {
    const query = encodeURIComponent('{ __typename }');
    const response = await fetch(`${stack.router.url}?query=${query}&${name}={roomID:1}`, {
      headers: { accept },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Result;
    expect(body.errors?.[0]?.message).toBe(
      `The "${name}" parameter of the query string is not valid JSON.`,
    );
  });

  describe('a subscription sent as plain GraphQL over HTTP', () => {
    const subscription = 'subscription { messageAdded(roomID: "123") { id } }';
    const refusal = {
      errors: [
        {
          message:
            'Subscriptions need a streaming protocol: use a WebSocket (graphql-transport-ws), ' +
            'Accept: text/event-stream (SSE) or Accept: multipart/mixed;subscriptionSpec=1.0 ' +
            '(see "Protocols" in the README).',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    };

    it.each([
      ['application/json', 200],
      ['*/*', 200],
      ['application/graphql-response+json', 400],
      // By quality, not by the order written.
      ['application/graphql-response+json;q=0.5, application/json', 200],
      ['application/json;q=0, application/graphql-response+json', 400],
    ])('is refused, saying what to use instead (Accept: %s → %i)', async (accept, status) => {
      const response = await fetch(stack.router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify({ query: subscription }),
      });
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual(refusal);
      expect(stack.router.subscriptions).toBe(0);
    });

    it('answers 406 to an Accept whose only JSON type has q=0', async () => {
      const response = await fetch(stack.router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json;q=0' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.status).toBe(406);
    });

    it('is refused the same way over GET', async () => {
      const url = `${stack.router.url}?query=${encodeURIComponent(subscription)}`;
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(refusal);
    });
  });

  it('refuses variables of the wrong type', async () => {
    const response = await post(stack.router.url, 'query ($id: ID!) { user(id: $id) { name } }', {
      id: { no: 1 },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.message).toContain('$id');
  });

  it('runs a mutation and a query after it sees its effect', async () => {
    const added = await post<{ addMessage: { id: string } }>(
      stack.router.url,
      'mutation { addMessage(roomID: "9", text: "hi", userID: "1") { id } }',
    );
    const read = await post(
      stack.router.url,
      `{ message(id: "${added.body.data!.addMessage.id}") { text user { name } } }`,
    );
    expect(read.body).toEqual({ data: { message: { text: 'hi', user: { name: 'Alice' } } } });
  });

  it('reports health, including the NATS connection', async () => {
    const response = await fetch(stack.router.url.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      nats: 'connected',
      providers: { default: 'connected' },
    });
  });
});
