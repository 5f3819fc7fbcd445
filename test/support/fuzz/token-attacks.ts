import type { Agent } from 'node:http';
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevKey, type DevKey } from '../../../stack/dev-key.js';
import type { Attack } from './campaign.js';
import { rawHttp, rawRequest, send } from './http-client.js';
import { ACCEPTS, endingFor, VICTIM_BODY } from './http-vocabulary.js';
import { preview } from './inputs.js';
import type { Random } from './random.js';
import { protocolMessages, SUB_PROTOCOL, WsSession, type Dialect } from './ws-client.js';

/**
 * Hostile credentials: malformed, forged, huge and oddly typed tokens in `Authorization`
 * headers (one, many, with control characters) and in `connection_init` payloads, and
 * validly signed tokens whose claims try to reach other callers' subjects. The router
 * under test trusts the example stack's development key (router.yaml).
 */

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const part = (value: unknown): string => b64(JSON.stringify(value));

interface Keys {
  readonly dev: DevKey;
  /** Not trusted, but signs with the development key's kid. */
  readonly forger: CryptoKey;
}
let keys: Promise<Keys> | undefined;
const loadKeys = (): Promise<Keys> =>
  (keys ??= Promise.all([ensureDevKey(), generateKeyPair('ES256')]).then(([dev, pair]) => ({
    dev,
    forger: pair.privateKey,
  })));

/** A token signed by `key` under the development key's kid, with hostile claims maybe. */
async function signed(rng: Random, key: CryptoKey, kid: string): Promise<string> {
  const claims = rng.pick<Record<string, unknown>>([
    { sub: '1' },
    { sub: rng.pick(['>', '*', 'a.b', '', ' ', 'x'.repeat(5_000), '1 2']) },
    { sub: 1 },
    { sub: null },
    { sub: ['1', '2'] },
    { sub: { id: 1 } },
    { scope: rng.string(rng.range(0, 200), 'ab: ') },
    { scope: 42 },
    {},
  ]);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(rng.chance(0.9) ? DEV_ISSUER : 'https://evil.test')
    .setAudience(rng.chance(0.9) ? DEV_AUDIENCE : 'other')
    .setIssuedAt();
  const now = Math.floor(Date.now() / 1000);
  jwt.setExpirationTime(rng.pick([now + 3600, now - 10, now + 1]));
  if (rng.chance(0.1)) jwt.setNotBefore(now + 3600);
  return jwt.sign(key);
}

/** A token-shaped string that is wrong in one way or another. */
async function hostileToken(rng: Random): Promise<string> {
  const { dev, forger } = await loadKeys();
  return rng.pick<() => string | Promise<string>>([
    () => signed(rng, dev.privateKey, dev.kid),
    () => signed(rng, forger, dev.kid),
    () => signed(rng, dev.privateKey, rng.string(rng.range(0, 300))),
    () => `${part({ alg: 'none' })}.${part({ sub: '1' })}.`,
    () =>
      `${part({ alg: rng.pick(['HS256', 'RS256', 'NONE', 'nOnE', '', 42]) })}.${part({ sub: '1' })}.${b64(rng.bytes(32))}`,
    () => `${part(rng.pick([[], null, 1, 'x', { kid: { $ne: 1 } }]))}.${part({})}.${b64('x')}`,
    () =>
      `${b64(rng.bytes(rng.range(1, 40)))}.${b64(rng.bytes(rng.range(0, 40)))}.${b64(rng.bytes(rng.range(0, 64)))}`,
    () =>
      Array.from({ length: rng.pick([1, 2, 4, 5, 50]) }, () => rng.string(rng.range(0, 20))).join(
        '.',
      ),
    () =>
      `${part({ alg: 'ES256', kid: dev.kid, crit: ['x'] })}.${part({ sub: '1' })}.${b64(rng.bytes(64))}`,
    () =>
      `${part({ alg: 'ES256', kid: dev.kid })}.${'A'.repeat(rng.pick([8_000, 16_500, 60_000]))}.${b64(rng.bytes(64))}`,
    () => rng.unicode(rng.range(1, 100)),
  ])();
}

/** An `Authorization` value: a hostile token behind a scheme, or a hostile scheme. */
async function hostileAuthorization(rng: Random): Promise<string> {
  const token = await hostileToken(rng);
  return rng.weighted<string>([
    [6, `Bearer ${token}`],
    [1, `bearer   ${token}  `],
    [1, `Basic ${token}`],
    [1, 'Bearer'],
    [1, `Bearer ${token} ${token}`],
    [1, token],
  ]);
}

const dialect = (rng: Random): Dialect => rng.pick<Dialect>(['modern', 'legacy']);

export function tokenAttacks(agent: Agent): readonly Attack[] {
  return [
    {
      name: 'auth:header',
      runs: 150,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const authorization = await hostileAuthorization(rng);
        const answer = await send(
          context,
          agent,
          {
            headers: { accept, 'content-type': 'application/json', authorization },
            body: VICTIM_BODY,
          },
          `Authorization ${preview(authorization, 40)}, Accept ${accept}`,
        );
        // Anything but a 2xx, 4xx answer is a finding the oracle already reported.
        void answer;
      },
    },
    {
      name: 'auth:raw-headers',
      runs: 100,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const token = await hostileToken(rng);
        const [lines, label] = rng.pick<() => [string, string]>([
          () => {
            const count = rng.range(2, 200);
            const values = Array.from(
              { length: count },
              () => `authorization: Bearer ${token}\r\n`,
            );
            return [values.join(''), `${count} Authorization headers`];
          },
          () => {
            const control = String.fromCharCode(rng.pick([0, 1, 7, 8, 9, 11, 12, 27, 127]));
            return [
              `authorization: Bearer ${token.slice(0, 20)}${control}${token.slice(20)}\r\n`,
              'a control character in Authorization',
            ];
          },
          () => [
            `authorization: Bearer ${rng
              .bytes(60)
              .toString('latin1')
              .replace(/[\r\n]/g, '')}\r\n`,
            'raw bytes in Authorization',
          ],
          () => [`authorization:\r\n`, 'an empty Authorization'],
          () => [
            `Authorization: Bearer ${token}\r\nAUTHORIZATION: Basic eA==\r\n`,
            'two Authorization headers in other cases',
          ],
        ])();
        const request = rawRequest(
          'POST',
          '/graphql',
          { accept, 'content-type': 'application/json' },
          VICTIM_BODY,
        );
        const [head, body] = [
          request.slice(0, request.indexOf('\r\n\r\n') + 2),
          request.slice(request.indexOf('\r\n\r\n') + 2),
        ];
        await rawHttp(
          context,
          [`${head}${lines}${body}`],
          endingFor(accept, rng),
          `${label}, Accept ${accept}`,
        );
      },
    },
    {
      name: 'auth:connection-init',
      runs: 150,
      async run(context) {
        const { rng } = context;
        const protocol = SUB_PROTOCOL[dialect(rng)];
        const upgrade = rng.chance(0.2) ? { authorization: await hostileAuthorization(rng) } : {};
        const ws = await WsSession.open(context, [protocol], upgrade);
        if (!ws) return;
        const authorization = await hostileAuthorization(rng);
        const payload = rng.pick<() => unknown>([
          () => ({ Authorization: authorization }),
          () => ({
            [rng.pick(['authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn'])]: authorization,
          }),
          () => ({ Authorization: authorization, authorization: 'Bearer x.y.z' }),
          () => ({
            Authorization: rng.pick([
              42,
              null,
              true,
              [authorization],
              { value: authorization },
              -0,
            ]),
          }),
          () => ({ Authorization: `Bearer ${'A'.repeat(rng.pick([20_000, 200_000]))}` }),
          () => rng.pick(['Bearer x', 42, [], [authorization], null, true]),
          () =>
            Object.fromEntries(
              Array.from({ length: rng.range(100, 3_000) }, (_, i) => [`k${i}`, authorization]),
            ),
          () => JSON.parse(`${'{"a":'.repeat(500)}1${'}'.repeat(500)}`) as unknown,
          () => ({ ['__proto__']: { Authorization: authorization } }),
        ])();
        const text = JSON.stringify({ type: 'connection_init', payload });
        const answered = ws.next((m) =>
          ['connection_ack', 'connection_error'].includes(String(m['type'])),
        );
        ws.send(text, `${ws.dialect}: connection_init ${preview(text, 60)}`);
        const answer = await answered;
        if (answer?.['type'] === 'connection_ack' && rng.chance(0.6)) {
          // A claims-scoped subject from whatever `sub` the token holds: refused, or its own.
          const subscribe = protocolMessages(ws.dialect ?? 'modern').subscribe(
            'viewer',
            JSON.stringify({ query: 'subscription { viewerUpdated { id } }' }),
          );
          ws.send(subscribe, `${ws.dialect}: viewerUpdated after ${preview(authorization, 40)}`);
        }
        if (answer) await ws.sync();
        await ws.end(rng.chance(0.5) ? 'close' : 'terminate');
      },
    },
  ];
}
