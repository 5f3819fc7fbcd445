/**
 * JWT authentication on every transport, with real tokens: keys made by the test, their
 * JWKS served over HTTP (and rotated) and read from a file. Bad tokens are refused (HTTP
 * 401, graphql-ws 4401, legacy connection_error); a subscription ends when its token
 * expires (WebSocket 4403); a claims-scoped subject gives each caller only their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from '@edfs/router';
import { subscribedSubjects } from './support/nats-monitor.js';
import { RawSocket, type WsMessage, type WsProtocol } from './support/raw-ws.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { badCredentials, sign, startIssuer, testKey, type Issuer } from './support/tokens.js';
import { waitFor } from './support/wait.js';

const ROOM = 'subscription($room: ID!) { messageAdded(roomID: $room) { id } }';
const VIEWER = 'subscription { viewerUpdated { id name } }';
const ACCEPT = {
  http: 'application/graphql-response+json',
  sse: 'text/event-stream',
  multipart: 'multipart/mixed;subscriptionSpec="1.0"',
} as const;
type HttpTransport = keyof typeof ACCEPT;
const WS_PROTOCOLS: readonly WsProtocol[] = ['graphql-transport-ws', 'graphql-ws'];

/** POSTs to `url` over one HTTP transport; a query on plain HTTP, a subscription on the rest. */
function request(
  url: string,
  transport: HttpTransport,
  authorization: string | undefined,
  body: Record<string, unknown> = {
    query: transport === 'http' ? '{ __typename }' : ROOM,
    variables: { room: 'auth' },
  },
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: ACCEPT[transport],
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify(body),
  });
}

interface Refusal {
  readonly code: unknown;
  readonly message: string;
}

/** What an HTTP transport answered a refused request with. */
async function httpRefusal(response: Response): Promise<Refusal> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
  const body = (await response.json()) as {
    errors: { message: string; extensions?: { code?: unknown } }[];
  };
  return { code: body.errors[0]?.extensions?.code, message: body.errors[0]!.message };
}

/** What a WebSocket protocol answered a refused connection_init with. */
async function wsRefusal(socket: RawSocket, protocol: WsProtocol): Promise<Refusal> {
  const answer = await socket.next();
  const { code, reason } = await socket.closed;
  expect(code).toBe(4401);
  if (protocol === 'graphql-transport-ws') {
    expect(answer).toBeUndefined(); // graphql-ws refuses with the close alone
    return { code: 'UNAUTHENTICATED', message: reason };
  }
  expect(answer?.type).toBe('connection_error');
  const payload = answer!.payload as { message: string; extensions: { code: unknown } };
  expect(reason).toBe(payload.message);
  return { code: payload.extensions.code, message: payload.message };
}

/** Results of `id` until it ends: the protocol's data messages' payloads. */
function isData(message: WsMessage | undefined, id: string): boolean {
  return message !== undefined && message.id === id && ['next', 'data'].includes(message.type);
}

describe('JWT authentication', () => {
  let stack: TestStack;
  let issuer: Issuer;
  let strict: Router;

  beforeAll(async () => {
    issuer = await startIssuer();
    stack = await startTestStack({
      configure: (config) => {
        coreNats(config);
        config.authentication = issuer.authentication();
      },
    });
    strict = await startRouterWith(stack, (config) => {
      config.authentication = issuer.authentication(true);
    });
  });

  afterAll(async () => {
    await strict?.close();
    await stack?.close();
    await issuer?.close();
  });

  it('refuses each kind of bad token on every transport, saying which check failed', async () => {
    const cases = await badCredentials(issuer);
    const messages = new Map<string, Set<string>>();
    await Promise.all(
      cases.flatMap(([kind, authorization]) => {
        const seen = (refusal: Refusal): void => {
          expect(refusal.code, kind).toBe('UNAUTHENTICATED');
          // Which check failed, never what the token held.
          expect(refusal.message, kind).not.toMatch(/eyJ|issuer\.test|evil/);
          const set = messages.get(kind) ?? new Set();
          messages.set(kind, set.add(refusal.message));
        };
        const overHttp = (['http', 'sse', 'multipart'] as const).map(async (transport) =>
          seen(await httpRefusal(await request(stack.router.url, transport, authorization))),
        );
        const overWs = WS_PROTOCOLS.map(async (protocol) => {
          const socket = new RawSocket(stack.router.url, protocol);
          await socket.send({ type: 'connection_init', payload: { Authorization: authorization } });
          seen(await wsRefusal(socket, protocol));
        });
        return [...overHttp, ...overWs];
      }),
    );
    // One message per kind, the same on every transport, and different kinds told apart.
    expect([...messages.values()].map((set) => set.size)).toEqual(cases.map(() => 1));
    expect(new Set([...messages.values()].map((set) => [...set][0])).size).toBeGreaterThan(7);
    expect(stack.router.subscriptions).toBe(0);
  });

  it('reads the WebSocket token from the upgrade header when connection_init has none', async () => {
    const [, expired] = (await badCredentials(issuer))[1]!;
    for (const protocol of WS_PROTOCOLS) {
      const refused = new RawSocket(stack.router.url, protocol, { authorization: expired });
      await refused.send({ type: 'connection_init', payload: {} });
      expect((await wsRefusal(refused, protocol)).code).toBe('UNAUTHENTICATED');
      const token = await sign(issuer.key, { sub: '1' });
      const accepted = new RawSocket(stack.router.url, protocol, { authorization: expired });
      // The payload's key, in any case, wins over the upgrade header.
      expect((await accepted.init({ aUtHoRiZaTiOn: `Bearer ${token}` }))?.type).toBe(
        'connection_ack',
      );
      accepted.close();
    }
  });

  it('refuses a caller without a token when one is required, and serves them otherwise', async () => {
    for (const transport of ['http', 'sse', 'multipart'] as const) {
      const refusal = await httpRefusal(await request(strict.url, transport, undefined));
      expect(refusal).toEqual({
        code: 'UNAUTHENTICATED',
        message: 'A token is required: send "Authorization: Bearer <token>".',
      });
    }
    for (const protocol of WS_PROTOCOLS) {
      const socket = new RawSocket(strict.url, protocol);
      await socket.send({ type: 'connection_init' });
      expect((await wsRefusal(socket, protocol)).code).toBe('UNAUTHENTICATED');
    }
    // With a token, the strict router serves; without `required`, nobody needs one.
    const token = `Bearer ${await sign(issuer.fileKey, { sub: '1' })}`;
    const ok = await request(strict.url, 'http', token);
    expect([ok.status, await ok.json()]).toEqual([200, { data: { __typename: 'Query' } }]);
    const anonymous = await request(stack.router.url, 'http', undefined);
    expect([anonymous.status, await anonymous.json()]).toEqual([
      200,
      { data: { __typename: 'Query' } },
    ]);
    const socket = new RawSocket(stack.router.url, 'graphql-transport-ws');
    expect((await socket.init())?.type).toBe('connection_ack');
    await socket.subscribe('graphql-transport-ws', '1', ROOM, { room: 'anonymous' });
    await stack.subscribedOn('room.anonymous.messages');
    stack.publish('room.anonymous.messages', { __typename: 'Message', id: 'm1' });
    expect(await socket.next()).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { messageAdded: { id: 'm1' } } },
    });
    socket.close();
    await stack.subscriptionsOpen(0);
  });

  it('accepts a rotated key once the JWKS URL serves it', async () => {
    const rotated = await testKey('rotated-key');
    const token = `Bearer ${await sign(rotated, { sub: '1' })}`;
    expect((await httpRefusal(await request(stack.router.url, 'http', token))).message).toBe(
      "No known key matches the token's key id.",
    );
    issuer.publish(rotated);
    const accepted = await request(stack.router.url, 'http', token);
    expect(accepted.status).toBe(200);
  });

  it('ends a subscription when its token expires, on every transport', async () => {
    // Seconds granularity: the tokens expire within 2 to 3 s from now.
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = async () => `Bearer ${await sign(issuer.key, { sub: '1' }, { exp })}`;
    const overWs = WS_PROTOCOLS.map(async (protocol) => {
      const socket = new RawSocket(stack.router.url, protocol);
      expect((await socket.init({ Authorization: await token() }))?.type).toBe('connection_ack');
      await socket.subscribe(protocol, '1', ROOM, { room: `expiry-${protocol}` });
      const last = await socket.next();
      expect(isData(last, '1'), JSON.stringify(last)).toBe(true);
      expect(last?.payload).toEqual({
        errors: [
          {
            message: 'The token has expired; subscribe again with a new one.',
            extensions: { code: 'TOKEN_EXPIRED' },
          },
        ],
      });
      expect(await socket.closed).toEqual({ code: 4403, reason: 'Token expired' });
    });
    const overHttp = (['sse', 'multipart'] as const).map(async (transport) => {
      const response = await request(stack.router.url, transport, await token(), {
        query: ROOM,
        variables: { room: `expiry-${transport}` },
      });
      expect(response.status).toBe(200);
      const body = await response.text(); // ends when the stream does
      expect(body).toContain('"code":"TOKEN_EXPIRED"');
      expect(body.trimEnd()).toMatch(transport === 'sse' ? /event: complete\ndata:$/ : /--$/);
    });
    await Promise.all([...overWs, ...overHttp]);
    await stack.subscriptionsOpen(0);
    expect(Date.now()).toBeGreaterThanOrEqual((exp - 1) * 1000);
  });

  it("gives each caller only their own subject: user 1 never gets user 2's events", async () => {
    const sockets = await Promise.all(
      ['1', '2', undefined, '>'].map(async (sub) => {
        const socket = new RawSocket(stack.router.url, 'graphql-transport-ws');
        const payload =
          sub === undefined ? {} : { authorization: `Bearer ${await sign(issuer.key, { sub })}` };
        expect((await socket.init(payload))?.type).toBe('connection_ack');
        await socket.subscribe('graphql-transport-ws', 'v', VIEWER);
        return socket;
      }),
    );
    const [alice, bob, anonymous, wildcard] = sockets as [
      RawSocket,
      RawSocket,
      RawSocket,
      RawSocket,
    ];
    // Anonymous and a `sub` that is not one subject token are refused; nothing subscribed.
    for (const [socket, message] of [
      [
        anonymous,
        '"Subscription.viewerUpdated" needs a token: its subject is the caller\'s "sub" claim.',
      ],
      [
        wildcard,
        'The token\'s "sub" claim cannot be a subject token of "Subscription.viewerUpdated"',
      ],
    ] as const) {
      const refused = await socket.next();
      expect(refused?.type).toBe('error');
      const [error] = refused!.payload as { message: string; extensions: { code: string } }[];
      expect(error!.message).toContain(message);
      expect(error!.extensions.code).toBe('UNAUTHENTICATED');
    }
    await stack.subscribedOn('user.1.updated');
    await stack.subscribedOn('user.2.updated');
    const subjects = await subscribedSubjects(stack.nats!.monitorUrl, 'edfs-router');
    expect(subjects.filter((subject) => subject.startsWith('user.')).sort()).toEqual([
      'user.1.updated',
      'user.2.updated',
    ]);

    stack.publish('user.2.updated', { __typename: 'User', id: '2' });
    stack.publish('user.1.updated', { __typename: 'User', id: '1' });
    // Alice's first result is her own event: Bob's, published before it, never reached her.
    expect((await alice.next())?.payload).toEqual({
      data: { viewerUpdated: { id: '1', name: 'Alice' } },
    });
    expect((await bob.next())?.payload).toEqual({
      data: { viewerUpdated: { id: '2', name: 'Bob' } },
    });
    for (const socket of sockets) socket.close();
    await stack.subscriptionsOpen(0);
    await waitFor('user subjects released', async () =>
      (await subscribedSubjects(stack.nats!.monitorUrl, 'edfs-router')).every(
        (subject) => !subject.startsWith('user.'),
      ),
    );
  });
});
