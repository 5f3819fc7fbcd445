import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import type { JwksConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ANONYMOUS, type Caller, type Credentials, type Identify } from './caller.js';

/**
 * JSON Web Token authentication: turns "Bearer <token>" into a caller with the token's
 * verified claims. Verification is jose's; this file only finds the token, picks the key
 * set and says which check failed, never what the token held.
 */
export interface JwtOptions {
  /** Key sets that may have signed a token; a token's `kid` picks the key. */
  jwks: readonly JwksConfig[];
  /** The `iss` a token must carry. @default unchecked */
  issuer?: string | undefined;
  /** An `aud` a token must carry. @default unchecked */
  audience?: string | undefined;
  /** The header, and `connection_init` key (any case), carrying "Bearer <token>". @default "Authorization" */
  header?: string;
  /** Algorithms accepted. @default any the key allows, never `none` */
  algorithms?: readonly string[] | undefined;
  /** Refuse callers without a token. @default false */
  required?: boolean;
  /** Where failures to fetch a key set are logged. */
  logger: Logger;
}

/** The longest token read; longer ones are refused before they are decoded. */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** Why a token was refused, as `extensions.reason`. */
export type RefusalReason =
  | 'missing'
  | 'scheme'
  | 'malformed'
  | 'too-long'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'keys-unavailable';

/** A JWS compact serialization: three base64url parts (an `alg: none` one has no signature). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Verifies tokens against the configured key sets; reads JWKS files now (a bad one fails start-up). */
export function createJwtIdentify({
  jwks,
  issuer,
  audience,
  header = 'Authorization',
  algorithms,
  required = false,
  logger,
}: JwtOptions): Identify {
  const key = keyFromSets(jwks.map(keySet));
  const verifyOptions: JWTVerifyOptions = {
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
    ...(algorithms === undefined ? {} : { algorithms: [...algorithms] }),
  };
  const name = header.toLowerCase();

  return async (credentials) => {
    const value = findCredential(credentials, name, header);
    if (value instanceof GraphQLError) return value;
    if (value === undefined) {
      return required
        ? refuse('missing', `A token is required: send "${header}: Bearer <token>".`)
        : ANONYMOUS;
    }
    const token = bearerToken(value, header);
    if (token instanceof GraphQLError) return token;
    try {
      return callerOf(await verify(token, key, verifyOptions));
    } catch (error) {
      return refusal(error, logger);
    }
  };
}

/** The credential's raw value, `undefined` if none was sent, or the error refusing it. */
function findCredential(
  { headers, connectionParams }: Credentials,
  name: string,
  header: string,
): string | undefined | GraphQLError {
  if (connectionParams !== null && typeof connectionParams === 'object') {
    // Any case, as Apollo Router and Cosmo match it; more than one is ambiguous.
    const keys = Object.keys(connectionParams).filter((key) => key.toLowerCase() === name);
    if (keys.length > 1) {
      return refuse('malformed', `The connection_init payload has more than one "${header}".`);
    }
    if (keys.length === 1) {
      const value = connectionParams[keys[0]!];
      if (typeof value !== 'string') {
        return refuse('malformed', `The connection_init payload's "${header}" must be a string.`);
      }
      return value;
    }
  }
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  return refuse('malformed', `Send one "${header}" header.`);
}

function bearerToken(value: string, header: string): string | GraphQLError {
  if (Buffer.byteLength(value) > MAX_TOKEN_BYTES + 7) {
    return refuse('too-long', `The token is longer than ${MAX_TOKEN_BYTES} bytes.`);
  }
  const match = /^Bearer +(\S+) *$/i.exec(value);
  if (!match) return refuse('scheme', `"${header}" must be "Bearer <token>".`);
  const token = match[1]!;
  if (!COMPACT_JWS.test(token)) return refuse('malformed', 'The token is not a well-formed JWT.');
  return token;
}

async function verify(
  token: string,
  key: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch (cause) {
    throw new errors.JWTInvalid('malformed', { cause });
  }
  // jose refuses `none` too; saying so here gives the client the right reason.
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') {
    throw new errors.JOSEAlgNotAllowed('"alg" not allowed');
  }
  try {
    return (await jwtVerify(token, key, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    // No `kid` and several keys fit: the one whose signature verifies is the signer.
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload;
      } catch (failed) {
        if (!(failed instanceof errors.JWSSignatureVerificationFailed)) throw failed;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function callerOf(claims: JWTPayload): Caller {
  const scope = claims['scope'];
  return Object.freeze({
    claims: Object.freeze({ ...claims }),
    scopes: new Set(typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : []),
    forwardedHeaders: Object.freeze({}),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
  });
}

/** Which check failed, from jose's error; nothing of the token itself. */
function refusal(error: unknown, logger: Logger): GraphQLError {
  if (error instanceof errors.JWTExpired) return refuse('expired', 'The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return refuse('not-yet-valid', 'The token is not valid yet.');
      case 'iss':
        return refuse('issuer', "The token's issuer is not accepted.");
      case 'aud':
        return refuse('audience', "The token's audience is not accepted.");
      default:
        return refuse('claims', `The token's "${error.claim}" claim is not valid.`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return refuse('algorithm', "The token's algorithm is not accepted.");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return refuse('unknown-key', "No known key matches the token's key id.");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return refuse('signature', "The token's signature is invalid.");
  }
  if (error instanceof KeySetUnavailable) {
    logger.warn({ err: error.cause }, 'a JWKS could not be fetched');
    return refuse('keys-unavailable', "The token's keys could not be fetched; try again later.");
  }
  // A TypeError or DOMException: the token, or the key it names, cannot be used.
  if (
    error instanceof errors.JOSEError ||
    error instanceof TypeError ||
    error instanceof DOMException
  ) {
    return refuse('malformed', 'The token is not a well-formed JWT.');
  }
  throw error;
}

/**
 * Whether a refusal is the router's failure, not the caller's: no key set could be fetched.
 * Transports answer it as "try again later" (HTTP 503, WebSocket 1013), not as "log in
 * again".
 */
export function isKeysUnavailable(error: GraphQLError): boolean {
  const unavailable: RefusalReason = 'keys-unavailable';
  return error.extensions['reason'] === unavailable;
}

function refuse(reason: RefusalReason, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', reason } });
}

function keySet(source: JwksConfig): JWTVerifyGetKey {
  if ('file' in source) return createLocalJWKSet(readJwksFile(source.file));
  return remoteKeySet(source);
}

/**
 * A JWKS URL's keys, fetched by jose: at the first token, again once `refreshMs` old, and
 * for an unknown `kid` at most every `cooldownMs`. When a fetch fails (the identity
 * provider is down or slow), tokens are checked against the keys fetched last, and no fetch
 * is tried for `cooldownMs`: an outage neither refuses tokens of keys the router knows nor
 * holds every request for `timeoutMs`. A token of a key it does not know is refused as
 * `keys-unavailable` meanwhile, since the set it could not fetch may hold it.
 */
function remoteKeySet(source: Extract<JwksConfig, { url: string }>): JWTVerifyGetKey {
  /**
   * Fetches that failed, told by the fetch itself: no answer (or none in `timeoutMs`), not
   * 200 OK, or not a JWKS. A request that waits on a fetch sees it fail too.
   */
  let fetchFailures = 0;
  const remote = createRemoteJWKSet(new URL(source.url), {
    cacheMaxAge: source.refreshMs,
    cooldownDuration: source.cooldownMs,
    timeoutDuration: source.timeoutMs,
    [customFetch]: async (url, options) => {
      try {
        const response = await fetch(url, options);
        const body = await response.text();
        const keys = (JSON.parse(body) as { keys?: unknown } | null)?.keys;
        if (response.status !== 200 || !Array.isArray(keys)) fetchFailures++;
        return new Response(body, { status: response.status, headers: response.headers });
      } catch (error) {
        fetchFailures++;
        throw error;
      }
    },
  });
  /**
   * The last failed fetch, with the keys fetched before it (jose keeps them; copied once
   * here, since `jwks()` gives a new copy each call and nothing is fetched meanwhile).
   */
  let failed:
    | { readonly at: number; readonly error: unknown; readonly keys: JWTVerifyGetKey | undefined }
    | undefined;
  const unavailable = (cause: unknown) =>
    new KeySetUnavailable('the JWKS could not be fetched', { cause });
  const fromFetched = async (
    keys: JWTVerifyGetKey,
    unfetched: unknown,
    ...args: Parameters<JWTVerifyGetKey>
  ) => {
    try {
      return await keys(...args);
    } catch (error) {
      throw error instanceof errors.JWKSNoMatchingKey ? unavailable(unfetched) : error;
    }
  };
  return async (...args) => {
    if (failed && Date.now() - failed.at < source.cooldownMs) {
      // None fetched yet: no fetch before the cooldown ends.
      if (!failed.keys) throw unavailable(failed.error);
      return fromFetched(failed.keys, failed.error, ...args);
    }
    const failuresBefore = fetchFailures;
    try {
      const key = await remote(...args);
      failed = undefined;
      return key;
    } catch (error) {
      // Only a failed fetch: an error of the token or of one key (one that cannot be
      // imported, say) is the token's refusal, and must not turn the whole set stale.
      if (fetchFailures === failuresBefore) throw error;
      const jwks = remote.jwks();
      failed = { at: Date.now(), error, keys: jwks && createLocalJWKSet(jwks) };
      if (!failed.keys) throw unavailable(error);
      return fromFetched(failed.keys, error, ...args);
    }
  };
}

/** Reads a JWKS file, failing start-up (not a request) when it is not one. */
export function readJwksFile(file: string): JSONWebKeySet {
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError('cannot read the JWKS file', file, { cause });
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'object' && key !== null)) {
    throw new ConfigError('a JWKS file is {"keys": [...]}', file);
  }
  return jwks as JSONWebKeySet;
}

/** A remote key set could not be fetched (and no other set had the key). */
class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}

/** One getter over several sets: the first that has the token's key gives it. */
function keyFromSets(sets: readonly JWTVerifyGetKey[]): JWTVerifyGetKey {
  return async (header, token) => {
    let unavailable: unknown;
    for (const set of sets) {
      try {
        return await set(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey) continue;
        if (error instanceof KeySetUnavailable) {
          // A set we could not fetch might be the one; another set may still have the key.
          unavailable ??= error.cause;
          continue;
        }
        throw error;
      }
    }
    if (unavailable !== undefined) {
      throw new KeySetUnavailable('no key set could be fetched', { cause: unavailable });
    }
    throw new errors.JWKSNoMatchingKey();
  };
}
