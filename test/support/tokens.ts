/**
 * Real tokens for tests: keys generated here with jose, a JWKS served over HTTP on port 0
 * (whose keys a test may rotate) and one written to a file, and a signer for each kind of
 * bad token the router must refuse.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { RouterConfig } from '@edfs/router';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'edfs';

export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

export interface SignOptions {
  /** Seconds since the epoch; @default in an hour */
  exp?: number;
  nbf?: number;
  iss?: string;
  aud?: string;
}

/** A token for `claims`, valid for `ISSUER` and `AUDIENCE` unless `options` say otherwise. */
export function sign(
  key: TestKey,
  claims: JWTPayload = {},
  options: SignOptions = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 3600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key.privateKey);
}

/** A token with `alg: none`: no signature at all. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export interface Issuer {
  /** Signs from the URL's JWKS. */
  readonly key: TestKey;
  /** Signs from the file's JWKS. */
  readonly fileKey: TestKey;
  readonly url: string;
  readonly file: string;
  /** Serves this key too from now on (a rotation). */
  publish(key: TestKey): void;
  /** An `authentication` config trusting both sets. */
  authentication(required?: boolean): RouterConfig['authentication'];
  close(): Promise<void>;
}

/** Keys, their JWKS on a node:http server (port 0) and in a temporary file. */
export async function startIssuer(): Promise<Issuer> {
  const [key, fileKey] = await Promise.all([testKey('url-key'), testKey('file-key')]);
  const served: JWK[] = [key.jwk];
  const dir = mkdtempSync(join(tmpdir(), 'edfs-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [fileKey.jwk] }));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return {
    key,
    fileKey,
    url,
    file,
    publish: (next) => void served.push(next.jwk),
    authentication: (required = false) => ({
      required,
      jwt: {
        // No cooldown: a test's rotated key is fetched on the first token that uses it.
        jwks: [{ url, refreshMs: 600_000, cooldownMs: 0, timeoutMs: 5_000 }, { file }],
        issuer: ISSUER,
        audience: AUDIENCE,
        header: 'Authorization',
      },
    }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One bad credential of each kind, as the value of an `Authorization` header. */
export async function badCredentials(issuer: Issuer): Promise<[kind: string, value: string][]> {
  const now = Math.floor(Date.now() / 1000);
  const stranger = await testKey(issuer.key.kid); // the right kid, another key
  const unknown = await testKey('nobody-knows');
  const claims = { sub: '1' };
  return [
    ['bad signature', `Bearer ${await sign(stranger, claims)}`],
    ['expired', `Bearer ${await sign(issuer.key, claims, { exp: now - 60 })}`],
    ['not yet valid', `Bearer ${await sign(issuer.key, claims, { nbf: now + 3600 })}`],
    ['wrong issuer', `Bearer ${await sign(issuer.key, claims, { iss: 'https://evil.test' })}`],
    ['wrong audience', `Bearer ${await sign(issuer.fileKey, claims, { aud: 'other' })}`],
    ['alg none', `Bearer ${unsignedToken({ ...claims, iss: ISSUER, aud: AUDIENCE })}`],
    ['unknown kid', `Bearer ${await sign(unknown, claims)}`],
    ['malformed', 'Bearer not.a-jwt'],
    ['wrong scheme', `Basic ${await sign(issuer.key, claims)}`],
  ];
}
