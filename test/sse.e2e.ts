import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-sse';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { heartbeats, parseEvents, sseClient, subscribeSse } from './support/sse.js';
import { spawnCurl } from './support/streams.js';
import { MESSAGE_ADDED, type Result, withoutCursor } from './support/graphql.js';

describe('GraphQL over SSE, with the graphql-sse client', () => {
  let stack: TestStack;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack();
    client = sseClient(stack.router.url);
  });
  afterAll(async () => {
    client?.dispose();
    await stack?.close();
  });

  it('joins a published key with the subgraphs', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'sse' });
    await stack.subscribedOn('room.sse.messages');

    stack.publish('room.sse.messages', { __typename: 'Message', id: '1' });

    expect(await sub.next()).toEqual({
      data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: { name: 'Alice' } } },
    });
    sub.unsubscribe();
  });

  it('answers a bad event with INVALID_EVENT and keeps the stream open', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'sse-bad' });
    await stack.subscribedOn('room.sse-bad.messages');

    stack.publish('room.sse-bad.messages', '{"__typename":"Message"}');
    stack.publish('room.sse-bad.messages', { __typename: 'Message', id: '2' });

    expect(await sub.next()).toEqual({
      errors: [
        {
          message: expect.stringContaining('every field of its key "id"'),
          extensions: { code: 'INVALID_EVENT' },
        },
      ],
    });
    expect((await sub.next()).data).toEqual({
      messageAdded: { id: '2', text: 'Hi Alice!', user: { name: 'Bob' } },
    });
    sub.unsubscribe();
  });

  it('releases the NATS subscription when the client leaves', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'sse-leave' });
    await stack.subscribedOn('room.sse-leave.messages');
    await stack.subscriptionsOpen(1);

    sub.unsubscribe();

    await stack.subscribedOn('room.sse-leave.messages', 0);
    await stack.subscriptionsOpen(0);
  });

  it('answers a query with one next event, then completes', async () => {
    const sub = subscribeSse(client, '{ messages(roomID: "123") { text user { name } } }');
    expect(await sub.next()).toEqual({
      data: {
        messages: [
          { text: 'Hello, Bob!', user: { name: 'Alice' } },
          { text: 'Hi Alice!', user: { name: 'Bob' } },
        ],
      },
    });
    await sub.completed;
  });

  it('runs a mutation, whose published key reaches an SSE subscriber', async () => {
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: 'sse-mutation' });
    await stack.subscribedOn('room.sse-mutation.messages');

    const mutation = subscribeSse<{ addMessage: { id: string } }>(
      client,
      'mutation { addMessage(roomID: "sse-mutation", text: "Off with their heads", userID: "1") { id } }',
    );
    const added = await mutation.next();
    await mutation.completed;

    expect(await sub.next()).toEqual({
      data: {
        messageAdded: {
          id: added.data!.addMessage.id,
          text: 'Off with their heads',
          user: { name: 'Alice' },
        },
      },
    });
    sub.unsubscribe();
  });

  it('reports a wildcard argument as BAD_USER_INPUT in the stream and subscribes to nothing', async () => {
    await stack.subscriptionsOpen(0); // the last test's subscription is gone
    const sub = subscribeSse(client, MESSAGE_ADDED, { roomID: '>' });
    expect(await sub.next()).toEqual({
      errors: [
        expect.objectContaining({
          message: expect.stringContaining('must be one subject token: 1 to 128 ASCII letters'),
          extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' },
        }),
      ],
    });
    await sub.completed;
    expect(stack.router.subjects).toBe(0);
  });

  it('reports a validation error in the stream', async () => {
    const sub = subscribeSse(client, 'subscription { messageAdded(roomID: "1") { nope } }');
    expect(await sub.next()).toEqual({
      errors: [
        expect.objectContaining({ message: 'Cannot query field "nope" on type "Message".' }),
      ],
    });
    await sub.completed;
  });
});

describe('GraphQL over SSE, with curl', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.sseHeartbeatMs = 50;
      config.maxPayloadBytes = 1024;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const stream = (query: string, ...args: string[]) =>
    spawnCurl([
      '-N',
      '-H',
      'accept: text/event-stream',
      '-H',
      'content-type: application/json',
      '--data',
      JSON.stringify({ query }),
      ...args,
      router.url,
    ]);

  it('streams events with id lines and heartbeats, and releases the subject when curl goes', async () => {
    const curl = stream('subscription { messageAdded(roomID: "curl") { id text } }');
    await stack.subscribedOn('room.curl.messages');
    // The opening comment, then heartbeats every 50 ms while nothing happens.
    await curl.until('two heartbeats', (output) => heartbeats(output) >= 3);

    stack.publish('room.curl.messages', { __typename: 'Message', id: '1' });
    stack.publish('room.curl.messages', { __typename: 'Message', id: '2' });
    const output = await curl.until('two events', (o) => parseEvents(o).length === 2);

    // For a stream-backed field each event's id is its cursor, which the data carries too.
    const events = parseEvents(output);
    expect(events.map((e) => e['event'])).toEqual(['next', 'next']);
    const results = events.map((e) => {
      const { result, cursor } = withoutCursor(JSON.parse(e['data']!) as Result);
      expect(cursor).toBe(e['id']);
      return result;
    });
    expect(results).toEqual([
      { data: { messageAdded: { id: '1', text: 'Hello, Bob!' } } },
      { data: { messageAdded: { id: '2', text: 'Hi Alice!' } } },
    ]);
    expect(router.subscriptions).toBe(1);

    await curl.kill();

    await stack.subscribedOn('room.curl.messages', 0);
    expect(router.subscriptions).toBe(0);
  });

  it('answers a GET query with next and complete, and ends the response', async () => {
    const curl = spawnCurl([
      '-N',
      '-G',
      '-H',
      'accept: text/event-stream',
      '--data-urlencode',
      'query={ user(id: "2") { name } }',
      router.url,
    ]);
    expect(await curl.exited).toBe(0);
    expect(parseEvents(curl.output)).toEqual([
      // No ids: only a stream-backed field's results have one, their cursor.
      { event: 'next', data: '{"data":{"user":{"name":"Bob"}}}' },
      { event: 'complete', data: '' },
    ]);
  });

  it('answers BAD_USER_INPUT with 200, a next event and complete, as the protocol asks', async () => {
    const curl = stream('subscription { messageAdded(roomID: "*") { id } }', '--include');
    expect(await curl.exited).toBe(0);
    expect(curl.output).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(curl.output).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/);
    const body = curl.output.slice(curl.output.indexOf('\r\n\r\n') + 4);
    const [next, complete] = parseEvents(body);
    expect(JSON.parse(next!['data']!)).toEqual({
      errors: [
        expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'roomID' } }),
      ],
    });
    expect(complete).toEqual({ event: 'complete', data: '' });
  });

  it.each([
    ['a malformed JSON body', 'POST', 'application/json', '{"query":', 400, 'Unparsable JSON body'],
    ['no query', 'POST', 'application/json', '{"variables":{}}', 400, 'Missing query'],
    ['a body that is not JSON', 'POST', 'text/plain', 'query', 415, 'application/json'],
    [
      'a body over maxPayloadBytes',
      'POST',
      'application/json',
      JSON.stringify({ query: `{ __typename }${' '.repeat(2048)}` }),
      413,
      'larger than the limit of 1024 bytes',
    ],
    ['a PUT', 'PUT', 'application/json', '{"query":"{ __typename }"}', 405, 'Method Not Allowed'],
  ])('refuses %s before opening a stream', async (_, method, type, body, status, message) => {
    const response = await fetch(router.url, {
      method,
      headers: { accept: 'text/event-stream', 'content-type': type },
      body,
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await response.json()) as { errors: { message: string }[] };
    expect(json.errors[0]!.message).toContain(message);
  });

  it('refuses a body over maxPayloadBytes on GraphQL over HTTP as well', async () => {
    const response = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }${' '.repeat(2048)}` }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: 'The request body is larger than the limit of 1024 bytes.',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
  });

  it('refuses a mutation sent with GET: 405, allow POST', async () => {
    const query = encodeURIComponent(
      'mutation { addMessage(roomID: "1", text: "x", userID: "1") { id } }',
    );
    const response = await fetch(`${router.url}?query=${query}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('refuses a mutation sent with GET over plain HTTP the same way', async () => {
    const query = encodeURIComponent('mutation { __typename }');
    const response = await fetch(`${router.url}?query=${query}`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Mutations are sent with POST.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('takes an empty operationName as none, on a supergraph with authorization rules', async () => {
    for (const send of [
      () =>
        fetch(router.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ user(id: "1") { name } }', operationName: '' }),
        }),
      () =>
        fetch(
          `${router.url}?query=${encodeURIComponent('{ user(id: "2") { name } }')}&operationName=`,
        ),
    ]) {
      const response = await send();
      expect({ status: response.status, body: await response.json() }).toMatchObject({
        status: 200,
        body: { data: { user: { name: expect.any(String) } } },
      });
    }
  });
});
