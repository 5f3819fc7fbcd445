import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller, type Identify } from './caller.js';
import { createJwtIdentify, MAX_TOKEN_BYTES, type JwtOptions } from './jwt.js';
import { ConfigError } from '../errors.js';

const logger = pino({ level: 'silent' });

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function key(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

function sign(
  signer: Key,
  claims: JWTPayload = {},
  edit: (jwt: SignJWT) => SignJWT = (jwt) => jwt.setExpirationTime('1h'),
): Promise<string> {
  return edit(
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: signer.kid }).setIssuedAt(),
  ).sign(signer.privateKey);
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

let dir: string;
let file: string;
let fileKey: Key;
let urlKey: Key;
let rotatedKey: Key;
let served: JWK[];
let server: Server;
let url: string;

beforeAll(async () => {
  [fileKey, urlKey, rotatedKey] = await Promise.all([key('file-1'), key('url-1'), key('url-2')]);
  dir = mkdtempSync(join(tmpdir(), 'jwt-test-'));
  file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [fileKey.jwk] }));
  served = [urlKey.jwk];
  server = createServer((req, res) => {
    if (req.url?.endsWith('?fail')) return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function identify(options: Partial<JwtOptions> = {}): Identify {
  return createJwtIdentify({
    jwks: [{ file }, { url, refreshMs: 600_000, cooldownMs: 0, timeoutMs: 5000 }],
    issuer: 'https://issuer.test',
    audience: 'edfs',
    logger,
    ...options,
  });
}

const good = { iss: 'https://issuer.test', aud: 'edfs', sub: '1', scope: 'users:email  a:b' };

function refusedFor(result: Caller | GraphQLError): unknown {
  expect(result).toBeInstanceOf(GraphQLError);
  const error = result as GraphQLError;
  expect(error.extensions['code']).toBe('UNAUTHENTICATED');
  return error.extensions['reason'];
}

describe('JWT identify', () => {
  it('turns a valid token into its claims, scopes and expiry, from a file or a URL', async () => {
    for (const signer of [fileKey, urlKey]) {
      const caller = (await identify()(bearer(await sign(signer, good)))) as Caller;
      expect(caller.claims?.['sub']).toBe('1');
      expect([...caller.scopes]).toEqual(['users:email', 'a:b']);
      expect(caller.expiresAt).toBe((caller.claims?.['exp'] as number) * 1000);
    }
  });

  it('is anonymous without a token unless one is required', async () => {
    expect(await identify()({ headers: {} })).toBe(ANONYMOUS);
    expect(refusedFor(await identify({ required: true })({ headers: {} }))).toBe('missing');
  });

  it('refuses each kind of bad token, saying which check failed', async () => {
    const stranger = await key('file-1'); // the right kid, another key
    const unknown = await key('nobody');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify(good),
    ).toString('base64url')}.x`;
    const cases: [string, string][] = [
      [`Bearer ${await sign(stranger, good)}`, 'signature'],
      [
        `Bearer ${await sign(fileKey, good, (jwt) => jwt.setExpirationTime(Math.floor(Date.now() / 1000) - 60))}`,
        'expired',
      ],
      [`Bearer ${await sign(fileKey, good, (jwt) => jwt.setNotBefore('1h'))}`, 'not-yet-valid'],
      [`Bearer ${await sign(fileKey, { ...good, iss: 'https://other' })}`, 'issuer'],
      [`Bearer ${await sign(fileKey, { ...good, aud: 'other' })}`, 'audience'],
      [`Bearer ${await sign(unknown, good)}`, 'unknown-key'],
      [`Bearer ${none}`, 'algorithm'],
      ['Bearer not-a-jwt', 'malformed'],
      ['Bearer a.b.c', 'malformed'],
      [`Basic ${await sign(fileKey, good)}`, 'scheme'],
      ['Bearer', 'scheme'],
      [`Bearer ${'a'.repeat(MAX_TOKEN_BYTES)}.b.c`, 'too-long'],
    ];
    for (const [authorization, reason] of cases) {
      const result = await identify()({ headers: { authorization } });
      expect(refusedFor(result), authorization.slice(0, 40)).toBe(reason);
      // The message says which check failed, never what the token held.
      expect((result as GraphQLError).message).not.toContain('issuer.test');
    }
  });

  it('reads the connection_init key in any case before the upgrade header', async () => {
    const token = await sign(fileKey, good);
    const caller = (await identify()({
      headers: { authorization: 'Bearer bad' },
      connectionParams: { AUTHORIZATION: `Bearer ${token}` },
    })) as Caller;
    expect(caller.claims?.['sub']).toBe('1');
    const upgrade = (await identify()({ ...bearer(token), connectionParams: {} })) as Caller;
    expect(upgrade.claims?.['sub']).toBe('1');
    for (const connectionParams of [
      { authorization: 42 },
      { authorization: [`Bearer ${token}`] },
      { authorization: `Bearer ${token}`, Authorization: `Bearer ${token}` },
    ]) {
      expect(refusedFor(await identify()({ headers: {}, connectionParams }))).toBe('malformed');
    }
  });

  it('picks up a rotated key from the URL on the first token it signs', async () => {
    const verify = identify();
    expect(refusedFor(await verify(bearer(await sign(rotatedKey, good))))).toBe('unknown-key');
    served = [urlKey.jwk, rotatedKey.jwk];
    const caller = (await verify(bearer(await sign(rotatedKey, good)))) as Caller;
    expect(caller.claims?.['sub']).toBe('1');
  });

  it('refuses when the key set cannot be fetched, and fails start-up on a bad file', async () => {
    const verify = createJwtIdentify({
      // The test's server answers this path with 500.
      jwks: [{ url: `${url}?fail`, refreshMs: 1, cooldownMs: 0, timeoutMs: 5000 }],
      logger,
    });
    expect(refusedFor(await verify(bearer(await sign(urlKey, good))))).toBe('keys-unavailable');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"keys": 1}');
    expect(() => createJwtIdentify({ jwks: [{ file: bad }], logger })).toThrow(ConfigError);
  });
});
