/**
 * Authorization with real tokens: `@requiresScopes` and `@authenticated` on a query field,
 * a type and a subscription root field, over HTTP, graphql-ws and SSE. What a caller may
 * not see is removed before planning and comes back null with UNAUTHORIZED_FIELD_OR_TYPE;
 * a subscription whose root field is unauthorized never reaches the broker; subscribers
 * whose scopes differ never share a fan-out group, and those whose scopes match do.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from '@edfs/router';
import { coreEventsSchema, coreNats, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, type Result } from './support/graphql.js';
import { pushToPull } from './support/streams.js';
import { sign, startIssuer, type Issuer } from './support/tokens.js';
import { waitFor } from './support/wait.js';

const UNAUTHORIZED = 'UNAUTHORIZED_FIELD_OR_TYPE';
const unauthorized = (path: (string | number)[]) => ({
  message: 'Unauthorized field or type',
  path,
  extensions: { code: UNAUTHORIZED },
});

describe('authorization', () => {
  let stack: TestStack;
  let issuer: Issuer;
  /** The example graph with the User type and Subscription.messageAdded scoped as well. */
  let scoped: Router;
  let dir: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    issuer = await startIssuer();
    stack = await startTestStack({
      configure: (config) => {
        coreNats(config);
        config.authentication = issuer.authentication();
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'edfs-authz-'));
    const events = join(dir, 'events.graphql');
    writeFileSync(
      events,
      readFileSync(coreEventsSchema, 'utf8')
        .replace(
          'import: ["@key", "@composeDirective"]',
          'import: ["@key", "@composeDirective", "@requiresScopes"]',
        )
        .replace(
          '@eventsSubscribe(topic: "room.{{ args.roomID }}.messages")',
          '@eventsSubscribe(topic: "room.{{ args.roomID }}.messages") @requiresScopes(scopes: [["rooms:read"]])',
        ),
    );
    const user = join(dir, 'user.graphql');
    const userSdl = fileURLToPath(new URL('../schemas/user.graphql', import.meta.url));
    writeFileSync(
      user,
      readFileSync(userSdl, 'utf8').replace(
        'type User @key(fields: "id") {',
        'type User @key(fields: "id") @requiresScopes(scopes: [["users:read"]]) {',
      ),
    );
    scoped = await startRouterWith(stack, (config) => {
      config.events.schema = events;
      config.subgraphs['user']!.schema = user;
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await scoped?.close();
    await stack?.close();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const token = (scope?: string, sub = '1') =>
    sign(issuer.key, scope === undefined ? { sub } : { sub, scope });

  async function query(url: string, text: string, bearer?: string): Promise<Result> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify({ query: text }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Result;
  }

  function ws(url: string, bearer?: string): Client {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      ...(bearer ? { connectionParams: { Authorization: `Bearer ${bearer}` } } : {}),
    });
    clients.push(client);
    return client;
  }

  describe('on a query field (User.email requires users:email)', () => {
    const USER = '{ user(id: "1") { name email } message(id: "2") { text } }';

    it('nulls it for a caller without the scope, non-null propagating, the rest resolving', async () => {
      const expected = {
        data: { user: null, message: { text: 'Hi Alice!' } },
        errors: [unauthorized(['user', 'email'])],
      };
      expect(await query(stack.router.url, USER)).toEqual(expected);
      expect(await query(stack.router.url, USER, await token('users:name'))).toEqual(expected);
    });

    it('answers it to a caller whose token grants the scope', async () => {
      expect(await query(stack.router.url, USER, await token('other users:email'))).toEqual({
        data: {
          user: { name: 'Alice', email: 'alice@wonderland.com' },
          message: { text: 'Hi Alice!' },
        },
      });
    });

    it('reports a field inside a list once, with @ for the items', async () => {
      const result = await query(
        stack.router.url,
        '{ users { name email } message(id: "1") { text } }',
      );
      // users: [User!]! cannot hold a null user: the null reaches the root.
      expect(result).toEqual({ data: null, errors: [unauthorized(['users', '@', 'email'])] });
    });

    it('answers an operation with everything removed: nulls and errors', async () => {
      expect(await query(stack.router.url, '{ user(id: "1") { email } }')).toEqual({
        data: { user: null },
        errors: [unauthorized(['user', 'email'])],
      });
      // users: [User!]! is removed with its only field: no note says why it is null.
      expect(await query(stack.router.url, '{ users { email } }')).toEqual({
        data: null,
        errors: [unauthorized(['users', '@', 'email'])],
      });
    });
  });

  describe('on a type (User requires users:read)', () => {
    it('removes each field returning it, also in an entity another subgraph joins', async () => {
      const text = '{ user(id: "1") { name } message(id: "1") { text user { name } } }';
      expect(await query(scoped.url, text)).toEqual({
        data: { user: null, message: { text: 'Hello, Bob!', user: null } },
        errors: [unauthorized(['user']), unauthorized(['message', 'user'])],
      });
      expect(await query(scoped.url, text, await token('users:read'))).toEqual({
        data: {
          user: { name: 'Alice' },
          message: { text: 'Hello, Bob!', user: { name: 'Alice' } },
        },
      });
    });
  });

  describe('on a subscription root field (messageAdded requires rooms:read)', () => {
    const ROOM = 'subscription { messageAdded(roomID: "scoped") { id text } }';

    it('refuses it over graphql-ws before anything is subscribed, and serves a caller with the scope', async () => {
      const refused = subscribe(ws(scoped.url, await token('users:read')), ROOM);
      await expect(refused.next()).rejects.toEqual([unauthorized(['messageAdded'])]);
      expect(await stack.nats!.subscriptionsOn('room.scoped.messages')).toBe(0);

      const allowed = subscribe(ws(scoped.url, await token('rooms:read')), ROOM);
      await stack.subscribedOn('room.scoped.messages');
      stack.publish('room.scoped.messages', { __typename: 'Message', id: '1' });
      expect(await allowed.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      await allowed.unsubscribe();
      await stack.subscribedOn('room.scoped.messages', 0);
    });

    it('refuses it over SSE and multipart with the same error', async () => {
      for (const accept of ['text/event-stream', 'multipart/mixed;subscriptionSpec="1.0"']) {
        const response = await fetch(scoped.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body: JSON.stringify({ query: ROOM }),
        });
        const body = await response.text();
        expect(body, accept).toContain(UNAUTHORIZED);
        expect(body, accept).toContain('"path":["messageAdded"]');
      }
      expect(await stack.nats!.subscriptionsOn('room.scoped.messages')).toBe(0);
      expect(scoped.subscriptions).toBe(0);
    });
  });

  describe('a subscription selecting user { email }', () => {
    const ROOM = 'subscription { messageAdded(roomID: "authz") { id user { name email } } }';
    const SUBJECT = 'room.authz.messages';
    const full = {
      data: { messageAdded: { id: '1', user: { name: 'Alice', email: 'alice@wonderland.com' } } },
    };
    const filtered = {
      data: { messageAdded: { id: '1', user: null } },
      errors: [unauthorized(['messageAdded', 'user', 'email'])],
    };

    it('gives each subscriber what its scopes let it see, in one group per set of rights', async () => {
      const groupsBefore = stack.router.groups;
      const anonymous = subscribe(ws(stack.router.url), ROOM);
      const reader = subscribe(ws(stack.router.url, await token('users:email')), ROOM);
      // Another user with the same right over this operation, and one more scope besides.
      const sameRights = subscribe(ws(stack.router.url, await token('users:email x', '2')), ROOM);
      const noScope = subscribe(ws(stack.router.url, await token(undefined, '2')), ROOM);
      await stack.subscriptionsOpen(4);
      await stack.subscribedOn(SUBJECT);
      expect(stack.router.groups - groupsBefore).toBe(2);

      stack.publish(SUBJECT, { __typename: 'Message', id: '1' });
      expect(await reader.next()).toEqual(full);
      expect(await sameRights.next()).toEqual(full);
      expect(await anonymous.next()).toEqual(filtered);
      expect(await noScope.next()).toEqual(filtered);

      await Promise.all([anonymous, reader, sameRights, noScope].map((s) => s.unsubscribe()));
      await stack.subscriptionsOpen(0);
    });

    it('over SSE, with the token in the header, likewise', async () => {
      const results = pushToPull<Result>();
      const client = createSseClient({
        url: stack.router.url,
        retryAttempts: 0,
        headers: { authorization: `Bearer ${await token('users:email')}` },
      });
      const anonymous = createSseClient({ url: stack.router.url, retryAttempts: 0 });
      const anonymousResults = pushToPull<Result>();
      const stop = [
        client.subscribe(
          { query: ROOM },
          {
            next: (value) => results.push(value as Result),
            error: (error) => results.fail(error),
            complete: () => results.complete(),
          },
        ),
        anonymous.subscribe(
          { query: ROOM },
          {
            next: (value) => anonymousResults.push(value as Result),
            error: (error) => anonymousResults.fail(error),
            complete: () => anonymousResults.complete(),
          },
        ),
      ];
      try {
        await stack.subscriptionsOpen(2);
        await stack.subscribedOn(SUBJECT);
        stack.publish(SUBJECT, { __typename: 'Message', id: '1' });
        expect(await results.next()).toEqual(full);
        expect(await anonymousResults.next()).toEqual(filtered);
      } finally {
        for (const unsubscribe of stop) unsubscribe();
        client.dispose();
        anonymous.dispose();
      }
      await waitFor('the SSE subscriptions to close', () => stack.router.subscriptions === 0);
    });
  });
});
