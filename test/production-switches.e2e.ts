import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRouter, type Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { openHttpStream } from './support/http-stream.js';
import { parseEvents } from './support/sse.js';
import { waitFor } from './support/wait.js';

const INTROSPECTION = '{ __schema { queryType { name } } }';
const TYPE = '{ __type(name: "User") { name } }';

describe('introspection: false', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    router = await startRouterWith(stack, (config) => {
      coreNats(config);
      config.introspection = false;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  const DISABLED = expect.objectContaining({
    message: expect.stringContaining('Introspection is turned off'),
    extensions: { code: 'INTROSPECTION_DISABLED' },
  });

  it('refuses __schema and __type over HTTP, WebSocket, SSE and multipart', async () => {
    for (const query of [INTROSPECTION, TYPE]) {
      const http = await post(router.url, query);
      expect(http.status).toBe(400);
      expect(http.body.errors).toEqual([DISABLED]);
    }

    const client = wsClient(router.url);
    await expect(subscribe(client, TYPE).next()).rejects.toEqual([DISABLED]);
    await client.dispose();

    const sse = await openHttpStream(router.url, 'text/event-stream', INTROSPECTION);
    await sse.ended;
    const next = parseEvents(sse.text).find((event) => event['event'] === 'next');
    expect(JSON.parse(next!['data']!)).toEqual({ errors: [DISABLED] });

    const multipart = await openHttpStream(
      router.url,
      'multipart/mixed;subscriptionSpec=1.0',
      INTROSPECTION,
    );
    await multipart.ended;
    expect(multipart.status).toBe(400);
    expect(JSON.parse(multipart.text)).toEqual({ errors: [DISABLED] });
  });

  it('still answers __typename, and the default router still answers introspection', async () => {
    const typename = await post(router.url, '{ __typename message(id: "1") { __typename id } }');
    expect(typename.body).toEqual({
      data: { __typename: 'Query', message: { __typename: 'Message', id: '1' } },
    });
    const open = await post(stack.router.url, INTROSPECTION);
    expect(open.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('maskSubgraphErrors: true', () => {
  let stack: TestStack;
  let router: Router;
  let failingUser: Server;
  let failingUserUrl: string;
  const logged: Record<string, unknown>[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    // A user subgraph that fails every entity with a message that must not reach clients.
    failingUser = createServer((req, res) => {
      req.resume().once('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            data: { _entities: [null] },
            errors: [
              {
                message: 'connect ECONNREFUSED db-7.internal:5432',
                path: ['_entities', 0, 'name'],
                extensions: { code: 'DATABASE_DOWN' },
              },
            ],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => failingUser.listen(0, '127.0.0.1', resolve));
    const config = structuredClone(stack.routerConfig);
    coreNats(config);
    config.maskSubgraphErrors = true;
    failingUserUrl = `http://127.0.0.1:${(failingUser.address() as AddressInfo).port}/graphql`;
    config.subgraphs['user']!.url = failingUserUrl;
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
    );
    router = await createRouter({ config, logger });
  });
  afterAll(async () => {
    await router?.close();
    failingUser?.close();
    await stack?.close();
  });

  const MASKED = { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  const maskedLogs = () =>
    logged.filter((line) => line['msg'] === 'a subgraph returned an error (masked for the client)');

  it("masks a subgraph's error on a mutation, keeping its path; unmasked routers pass it on", async () => {
    const mutation = 'mutation { addMessage(roomID: "123", text: " ", userID: "1") { id } }';
    const unmasked = await post(stack.router.url, mutation);
    expect(unmasked.body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('must not be empty'),
      extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    });

    const masked = await post(router.url, mutation);
    expect(masked.body).toEqual({ data: null, errors: [{ ...MASKED, path: ['addMessage'] }] });
    expect(maskedLogs()).toEqual([
      expect.objectContaining({
        subgraph: 'message',
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining('must not be empty'),
      }),
    ]);
  });

  it('masks it on a query and on every event, keeping the path, once per event in the log', async () => {
    const QUERY = '{ message(id: "1") { text user { name } } }';
    // The same failing subgraph without masking: what the client would otherwise see.
    const unmaskedRouter = await startRouterWith(stack, (config) => {
      coreNats(config);
      config.subgraphs['user']!.url = failingUserUrl;
    });
    const unmasked = await post(unmaskedRouter.url, QUERY);
    await unmaskedRouter.close();
    expect(unmasked.body.errors).toEqual([
      expect.objectContaining({ message: 'connect ECONNREFUSED db-7.internal:5432' }),
    ]);
    const path = unmasked.body.errors![0]!.path;
    expect(path).toBeDefined();

    const query = await post(router.url, QUERY);
    expect(query.body.data).toEqual({ message: { text: 'Hello, Bob!', user: null } });
    expect(query.body.errors).toEqual([{ ...MASKED, path }]);
    expect(JSON.stringify(query.body)).not.toContain('db-7');

    const before = maskedLogs().length;
    const clients = [wsClient(router.url), wsClient(router.url)];
    const subs = clients.map((client) =>
      subscribe(client, 'subscription { messageAdded(roomID: "mask") { id text user { name } } }'),
    );
    await stack.subscribedOn('room.mask.messages');
    await waitFor('both subscriptions', () => router.subscriptions === 2);
    stack.publish('room.mask.messages', { __typename: 'Message', id: '1' });
    for (const sub of subs) {
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!', user: null } },
        errors: [{ ...MASKED, path: expect.arrayContaining(['messageAdded']) }],
      });
    }
    // One resolution for both subscribers: the original is logged once.
    expect(maskedLogs().length - before).toBe(1);
    expect(maskedLogs().at(-1)).toMatchObject({
      subgraph: 'user',
      code: 'DATABASE_DOWN',
      message: 'connect ECONNREFUSED db-7.internal:5432',
    });
    for (const client of clients) await client.dispose();
  });
});
