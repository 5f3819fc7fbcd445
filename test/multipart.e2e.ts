import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApolloClient } from '@apollo/client';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith, startRouterWithUserDown } from './support/routers.js';
import { startRestrictedNats, type RestrictedNats } from './support/restricted-nats.js';
import { apolloClient, subscribeApollo } from './support/apollo.js';
import { spawnCurl } from './support/streams.js';
import { MESSAGE_ADDED, withoutCursor } from './support/graphql.js';

/**
 * The JSON bodies of the complete parts of a multipart/mixed body with boundary "graphql",
 * heartbeats included: what lies between two delimiters (each part ends with one).
 */
function parts(body: string): unknown[] {
  return body
    .split('\r\n--graphql')
    .slice(1, -1)
    .map((part) => JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4)) as unknown);
}

describe('multipart subscriptions, with Apollo Client', () => {
  let stack: TestStack;
  let client: ApolloClient;
  beforeAll(async () => {
    stack = await startTestStack();
    client = apolloClient(stack.router.url);
  });
  afterAll(async () => {
    client?.stop();
    await stack?.close();
  });

  it('joins a published key with the subgraphs', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'apollo' });
    await stack.subscribedOn('room.apollo.messages');

    stack.publish('room.apollo.messages', { __typename: 'Message', id: '1' });

    expect(await sub.next()).toEqual({
      data: {
        messageAdded: {
          __typename: 'Message',
          id: '1',
          text: 'Hello, Bob!',
          user: { __typename: 'User', name: 'Alice' },
        },
      },
    });
    sub.unsubscribe();
  });

  it('answers a bad event with INVALID_EVENT and keeps the stream open', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'apollo-bad' });
    await stack.subscribedOn('room.apollo-bad.messages');

    stack.publish('room.apollo-bad.messages', '["Message","1"]');
    stack.publish('room.apollo-bad.messages', { __typename: 'Message', id: '2' });

    const bad = await sub.next();
    expect(bad.data).toBeUndefined();
    expect(bad.error?.name).toBe('CombinedGraphQLErrors');
    expect((bad.error as unknown as { errors: unknown[] }).errors).toEqual([
      {
        message: expect.stringContaining('not a JSON object'),
        extensions: { code: 'INVALID_EVENT' },
      },
    ]);
    expect((await sub.next()).data).toMatchObject({
      messageAdded: { id: '2', text: 'Hi Alice!', user: { name: 'Bob' } },
    });
    sub.unsubscribe();
  });

  it('releases the NATS subscription when the client unsubscribes', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'apollo-leave' });
    await stack.subscribedOn('room.apollo-leave.messages');
    await stack.subscriptionsOpen(1);

    sub.unsubscribe();

    await stack.subscribedOn('room.apollo-leave.messages', 0);
    await stack.subscriptionsOpen(0);
  });

  it('refuses a wildcard argument with BAD_USER_INPUT before the stream and subscribes to nothing', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'a.>' });
    const result = await sub.next();
    expect(result.error?.name).toBe('CombinedGraphQLErrors');
    expect((result.error as unknown as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
    ]);
    await sub.completed;
    expect(stack.router.subjects).toBe(0);
  });

  it('runs a query and a mutation through the same link', async () => {
    const { gql } = await import('@apollo/client');
    const added = await client.mutate<{ addMessage: { id: string } }>({
      mutation: gql(
        'mutation { addMessage(roomID: "apollo-q", text: "Jam tomorrow", userID: "2") { id } }',
      ),
    });
    const read = await client.query<{ message: { text: string; user: { name: string } } }>({
      query: gql('query ($id: ID!) { message(id: $id) { text user { name } } }'),
      variables: { id: added.data!.addMessage.id },
    });
    expect(read.data?.message).toMatchObject({ text: 'Jam tomorrow', user: { name: 'Bob' } });
  });
});

describe('multipart subscriptions, with curl', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.multipartHeartbeatMs = 50;
      config.maxPayloadBytes = 1024;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const stream = (accept: string, query: string, ...args: string[]) =>
    spawnCurl([
      '-N',
      '-H',
      `accept: ${accept}`,
      '-H',
      'content-type: application/json',
      '--data',
      JSON.stringify({ query }),
      ...args,
      router.url,
    ]);

  it.each(['multipart/mixed;subscriptionSpec=1.0', 'multipart/mixed; subscriptionSpec="1.0"'])(
    'streams payload parts and {} heartbeats for Accept %s, and releases when curl goes',
    async (accept) => {
      const curl = stream(
        accept,
        'subscription { messageAdded(roomID: "mp") { id } }',
        '--include',
      );
      await stack.subscribedOn('room.mp.messages');
      await curl.until('two heartbeats after the first', (o) => parts(o).length >= 3);

      stack.publish('room.mp.messages', { __typename: 'Message', id: '2' });
      const output = await curl.until('the event', (o) => o.includes('"payload"'));

      expect(output).toMatch(/^HTTP\/1.1 200 OK\r\n/);
      expect(output).toContain(
        '\r\ncontent-type: multipart/mixed;boundary="graphql";subscriptionSpec="1.0"\r\n',
      );
      expect(output).toMatch(
        /\r\n--graphql\r\nContent-Type: application\/json\r\n\r\n\{"payload":\{"data":\{"messageAdded":\{"id":"2"\}\},"extensions":\{"cursor":"[\w-]+"\}\}\}\r\n--graphql/,
      );
      // Everything else is a heartbeat: the first part, then one every 50 ms.
      const all = parts(output) as { payload?: Record<string, unknown> }[];
      expect(all.filter((p) => p.payload).map((p) => withoutCursor(p.payload!).result)).toEqual([
        { data: { messageAdded: { id: '2' } } },
      ]);
      expect(all.length).toBeGreaterThanOrEqual(4);

      await curl.kill();
      await stack.subscribedOn('room.mp.messages', 0);
      expect(router.subscriptions).toBe(0);
    },
  );

  it('answers a query with one part and the closing boundary', async () => {
    const curl = stream('multipart/mixed;subscriptionSpec=1.0', '{ user(id: "1") { name } }');
    expect(await curl.exited).toBe(0);
    expect(parts(curl.output)).toEqual([{}, { payload: { data: { user: { name: 'Alice' } } } }]);
    expect(curl.output.endsWith('\r\n--graphql--\r\n')).toBe(true);
  });

  it('answers a validation error before the stream as GraphQL over HTTP: 400 with the errors', async () => {
    const response = await fetch(router.url, {
      method: 'POST',
      headers: {
        accept: 'multipart/mixed;subscriptionSpec=1.0',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query: 'subscription { messageAdded(roomID: "1") { nope } }' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [
        expect.objectContaining({ message: 'Cannot query field "nope" on type "Message".' }),
      ],
    });
  });

  it.each([
    ['a malformed JSON body', 'POST', 'application/json', '{"query":', 400, 'Unparsable JSON body'],
    [
      'a body that is not JSON',
      'POST',
      'application/x-www-form-urlencoded',
      'query=x',
      415,
      'application/json',
    ],
    [
      'a body over maxPayloadBytes',
      'POST',
      'application/json',
      JSON.stringify({ query: `{ __typename }${' '.repeat(2048)}` }),
      413,
      'larger than the limit of 1024 bytes',
    ],
    [
      'a DELETE',
      'DELETE',
      'application/json',
      '{"query":"{ __typename }"}',
      405,
      'Method Not Allowed',
    ],
  ])('refuses %s before opening a stream', async (_, method, type, body, status, message) => {
    const response = await fetch(router.url, {
      method,
      headers: { accept: 'multipart/mixed;subscriptionSpec=1.0', 'content-type': type },
      body,
    });
    expect(response.status).toBe(status);
    const json = (await response.json()) as { errors: { message: string }[] };
    expect(json.errors[0]!.message).toContain(message);
  });

  it.each(['multipart/mixed', 'multipart/mixed;deferSpec=20220824', 'image/png'])(
    'answers Accept %s, which no protocol here serves, with 406',
    async (accept) => {
      const response = await fetch(`${router.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { accept },
      });
      expect(response.status).toBe(406);
      const json = (await response.json()) as { errors: { message: string }[] };
      expect(json.errors[0]!.message).toContain('multipart/mixed;subscriptionSpec=1.0');
    },
  );
});

describe('multipart subscriptions when a subgraph is down', () => {
  let stack: TestStack;
  let router: Router;
  let client: ApolloClient;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWithUserDown(stack);
    client = apolloClient(router.url);
  });
  afterAll(async () => {
    client?.stop();
    await router?.close();
    await stack?.close();
  });

  it('gives partial data with SUBGRAPH_UNAVAILABLE and keeps the stream open', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'mp-partial' });
    await stack.subscribedOn('room.mp-partial.messages');

    stack.publish('room.mp-partial.messages', { __typename: 'Message', id: '1' });
    stack.publish('room.mp-partial.messages', { __typename: 'Message', id: '2' });

    for (const [id, text] of [
      ['1', 'Hello, Bob!'],
      ['2', 'Hi Alice!'],
    ]) {
      const result = await sub.next();
      expect(result.data).toMatchObject({ messageAdded: { id, text, user: null } });
      expect((result.error as unknown as { errors: unknown[] }).errors).toEqual([
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

describe('multipart subscriptions when NATS ends the subscription', () => {
  let nats: RestrictedNats;
  let stack: TestStack;
  let client: ApolloClient;
  beforeAll(async () => {
    nats = await startRestrictedNats('room.forbidden.messages');
    stack = await startTestStack({ natsUrl: nats.url, configure: coreNats });
    client = apolloClient(stack.router.url);
  });
  afterAll(async () => {
    client?.stop();
    await stack?.close();
    await nats?.stop();
  });

  it('ends the stream with {"payload": null, "errors": [SUBSCRIPTION_FAILED]} and the closing boundary', async () => {
    const response = await fetch(stack.router.url, {
      method: 'POST',
      headers: {
        accept: 'multipart/mixed;subscriptionSpec=1.0',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query: 'subscription { messageAdded(roomID: "forbidden") { id } }' }),
    });
    const body = await response.text();
    expect(parts(body).at(-1)).toEqual({
      payload: null,
      errors: [
        {
          message: 'The event stream for this subscription failed.',
          extensions: { code: 'SUBSCRIPTION_FAILED' },
        },
      ],
    });
    expect(body.endsWith('\r\n--graphql--\r\n')).toBe(true);
  });

  it('makes Apollo Client report it as protocol errors, then complete', async () => {
    const sub = subscribeApollo(client, MESSAGE_ADDED, { roomID: 'forbidden' });
    const result = await sub.next();
    expect(result.data).toBeUndefined();
    expect(result.error?.name).toBe('CombinedProtocolErrors');
    expect((result.error as unknown as { errors: unknown[] }).errors).toEqual([
      {
        message: 'The event stream for this subscription failed.',
        extensions: { code: 'SUBSCRIPTION_FAILED' },
      },
    ]);
    await sub.completed;
    expect(stack.router.subscriptions).toBe(0);
  });
});
