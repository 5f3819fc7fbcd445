/**
 * An identity provider whose JWKS endpoint fails or hangs: tokens of keys the router
 * fetched before go on being accepted, nothing waits on a fetch known to fail, a token the
 * router cannot check is answered "try again later" (not "log in again"), and a WebSocket
 * client whose `connection_init` came in time is not cut off while its token is checked.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Router, RouterConfig } from '@edfs/router';
import { RawSocket, type WsProtocol } from './support/raw-ws.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { AUDIENCE, ISSUER, sign, testKey, type TestKey } from './support/tokens.js';
import { waitFor } from './support/wait.js';

type Mode = 'ok' | 'down' | 'hold';

/** A JWKS endpoint that serves its keys, answers 503 (`down`) or holds requests (`hold`). */
async function jwksServer(keys: TestKey[]) {
  let mode: Mode = 'ok';
  let fetches = 0;
  const held: ServerResponse[] = [];
  const serve = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((key) => key.jwk) }));
  };
  const server = createServer((_req, res) => {
    fetches++;
    if (mode === 'ok') return serve(res);
    if (mode === 'down') return void res.writeHead(503).end();
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    set(next: Mode) {
      mode = next;
      if (mode === 'ok') for (const res of held.splice(0)) serve(res);
    },
    get fetches() {
      return fetches;
    },
    get held() {
      return held.length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function authentication(url: string, refreshMs: number): RouterConfig['authentication'] {
  return {
    required: true,
    jwt: {
      jwks: [{ url, refreshMs, cooldownMs: 60_000, timeoutMs: 5_000 }],
      issuer: ISSUER,
      audience: AUDIENCE,
      header: 'Authorization',
    },
  };
}

const query = (token: string) =>
  fetch(router.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ __typename }' }),
  });

let stack: TestStack;
let router: Router;
let jwks: Awaited<ReturnType<typeof jwksServer>>;
let known: TestKey;

beforeAll(async () => {
  stack = await startTestStack({ configure: coreNats });
  known = await testKey('known');
});
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  jwks?.set('ok');
  await router?.close();
  await jwks?.close();
});

describe('a JWKS endpoint that goes down', () => {
  it('goes on accepting tokens of the keys fetched before, without asking again meanwhile', async () => {
    jwks = await jwksServer([known]);
    router = await startRouterWith(stack, (config) => {
      config.authentication = authentication(jwks.url, 1);
    });
    const token = await sign(known, { sub: '1' });
    expect((await query(token)).status).toBe(200);

    jwks.set('down');
    const before = jwks.fetches;
    // refreshMs (1 ms) has passed: each of these asks for a fresh set, the first one fetches.
    for (let i = 0; i < 5; i++) {
      const response = await query(token);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
    // The failed fetch is not tried again for cooldownMs (a minute).
    expect(jwks.fetches - before).toBe(1);
  });

  it('answers a token of a key it could not fetch with 503, not 401', async () => {
    jwks = await jwksServer([known]);
    router = await startRouterWith(stack, (config) => {
      config.authentication = authentication(jwks.url, 1);
    });
    expect((await query(await sign(known, { sub: '1' }))).status).toBe(200);
    jwks.set('down');
    // A new key id, and the set is due for a refresh that fails: it may be in the new set.
    const response = await query(await sign(await testKey('rotated'), { sub: '1' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('www-authenticate')).toBeNull();
    const body = (await response.json()) as { errors: { extensions: unknown }[] };
    expect(body.errors[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'keys-unavailable',
    });
    // Known keys still work meanwhile.
    expect((await query(await sign(known, { sub: '1' }))).status).toBe(200);
  });

  it.each<WsProtocol>(['graphql-transport-ws', 'graphql-ws'])(
    '%s: closes with 1013 (try again later) when the keys cannot be fetched',
    async (protocol) => {
      jwks = await jwksServer([known]);
      jwks.set('down');
      router = await startRouterWith(stack, (config) => {
        config.authentication = authentication(jwks.url, 600_000);
      });
      const socket = new RawSocket(router.url, protocol);
      await socket.init({ Authorization: `Bearer ${await sign(known, { sub: '1' })}` });
      expect((await socket.closed).code).toBe(1013);
    },
  );
});

describe('a JWKS that holds a key the router cannot use', () => {
  it("refuses a token naming it as that token's fault, and goes on fetching the set", async () => {
    // A point that is not on the curve: the key cannot be imported.
    const broken = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'broken', alg: 'ES256' };
    const keys = [known, { kid: 'broken', jwk: broken } as unknown as TestKey];
    jwks = await jwksServer(keys);
    router = await startRouterWith(stack, (config) => {
      config.authentication = authentication(jwks.url, 1); // each token asks for a fresh set
    });
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
      sub: '1',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    const forged = `${part({ alg: 'ES256', kid: 'broken' })}.${part(claims)}.${'A'.repeat(86)}`;
    for (let i = 0; i < 3; i++) {
      const response = await query(forged);
      expect(response.status).toBe(401);
      const body = (await response.json()) as { errors: { extensions: { reason: unknown } }[] };
      expect(body.errors[0]?.extensions.reason).toBe('malformed');
    }
    // The set was not taken for unreachable: a key rotated in now is fetched and accepted.
    const rotated = await testKey('rotated-in');
    keys.push(rotated);
    expect((await query(await sign(rotated, { sub: '1' }))).status).toBe(200);
  });
});

describe('a JWKS endpoint that is slow', () => {
  it.each(['text/event-stream', 'multipart/mixed;subscriptionSpec=1.0'])(
    '%s: a client that leaves while its token is checked gives its place under maxConnections back',
    async (accept) => {
      jwks = await jwksServer([known]);
      router = await startRouterWith(stack, (config) => {
        config.authentication = authentication(jwks.url, 600_000);
        config.limits.maxConnections = 1;
      });
      const token = await sign(known, { sub: '1' });
      const open = (signal: AbortSignal) =>
        fetch(router.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'subscription { messageAdded(roomID: "keys") { id } }' }),
          signal,
        });
      jwks.set('hold');
      const leaving = new AbortController();
      const left = open(leaving.signal).catch(() => 'left');
      await waitFor('the JWKS fetch', () => jwks.held > 0);
      leaving.abort();
      expect(await left).toBe('left');
      // Answered at once (no token to check): the router has read past the one that left.
      const anonymous = await fetch(router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(anonymous.status).toBe(401);
      jwks.set('ok');

      const staying = new AbortController();
      const response = await open(staying.signal);
      expect(response.status).toBe(200);
      staying.abort();
    },
  );

  it.each<WsProtocol>(['graphql-transport-ws', 'graphql-ws'])(
    '%s: does not time out a connection_init sent in time while its token is checked',
    async (protocol) => {
      jwks = await jwksServer([known]);
      router = await startRouterWith(stack, (config) => {
        config.authentication = authentication(jwks.url, 600_000);
        config.connectionInitTimeoutMs = 300;
      });
      jwks.set('hold');
      const socket = new RawSocket(router.url, protocol);
      await socket.send({
        type: 'connection_init',
        payload: { Authorization: `Bearer ${await sign(known, { sub: '1' })}` },
      });
      await waitFor('the JWKS fetch', () => jwks.held > 0);
      // One opened after it and silent is timed out: the first one's timeout has passed too.
      const silent = new RawSocket(router.url, protocol);
      expect((await silent.closed).code).toBe(4408);
      jwks.set('ok');
      expect((await socket.next())?.type).toBe('connection_ack');
      socket.close();
    },
  );
});
