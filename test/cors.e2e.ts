import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { openHttpStream } from './support/http-stream.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';

function preflight(url: string, origin: string, headers = 'content-type') {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': headers,
    },
  });
}

function query(url: string, origin?: string) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
}

/** How a WebSocket upgrade with `origin` (or none) ends: opened, or the HTTP status refusing it. */
function upgrade(url: string, origin?: string): Promise<'open' | number> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', {
    ...(origin ? { origin } : {}),
  });
  return new Promise((resolve) => {
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('error', () => undefined);
  });
}

describe('CORS and the WebSocket Origin check', () => {
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    router = await startRouterWith(stack, (config) => {
      coreNats(config);
      config.cors.origins = [APP];
      config.cors.maxAgeSeconds = 120;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  it('answers a preflight from a listed origin with 204 and what it may send', async () => {
    const response = await preflight(router.url, APP, 'content-type, authorization');
    expect(response.status).toBe(204);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '120',
      vary: expect.stringContaining('Origin'),
    });
  });

  it('refuses a preflight from another origin, or asking for an unlisted header, with 403 JSON', async () => {
    const before = router.counters.connectionsRefused;
    for (const response of [
      await preflight(router.url, EVIL),
      await preflight(router.url, APP, 'x-internal-token'),
    ]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('CORS_REFUSED');
    }
    expect(router.counters.connectionsRefused).toBe(before + 2);
  });

  it('allows no other origin by default', async () => {
    const response = await preflight(stack.router.url, APP);
    expect(response.status).toBe(403);
    const post = await query(stack.router.url, APP);
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('marks answers to a listed origin, and only those, on POST, SSE and multipart', async () => {
    const allowed = await query(router.url, APP);
    expect(await allowed.json()).toEqual({ data: { __typename: 'Query' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(allowed.headers.get('vary')).toContain('Origin');
    const foreign = await query(router.url, EVIL);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(foreign.headers.get('vary')).toContain('Origin');

    const subscription = 'subscription { messageAdded(roomID: "cors") { id } }';
    for (const accept of ['text/event-stream', 'multipart/mixed;subscriptionSpec=1.0']) {
      const stream = await openHttpStream(router.url, accept, subscription, { origin: APP });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('access-control-allow-origin')).toBe(APP);
      expect(stream.headers.get('vary')).toContain('Origin');
      stream.close();
    }
  });

  it('refuses a WebSocket upgrade from a foreign Origin with 403, accepts a listed, its own and none', async () => {
    const before = router.counters.connectionsRefused;
    expect(await upgrade(router.url, EVIL)).toBe(403);
    expect(await upgrade(stack.router.url, APP)).toBe(403); // not listed there
    expect(router.counters.connectionsRefused).toBe(before + 1);
    expect(await upgrade(router.url, APP)).toBe('open');
    expect(await upgrade(router.url, new URL(router.url).origin)).toBe('open');
    expect(await upgrade(stack.router.url, new URL(stack.router.url).origin)).toBe('open');
    expect(await upgrade(router.url)).toBe('open');
  });
});
