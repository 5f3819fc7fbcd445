/**
 * How each broker's client is told who the router is and how to reach the broker, from a
 * provider's config: one place for the router's providers and for `pnpm pub`, so both
 * connect the same way.
 */
import { readFileSync } from 'node:fs';
import { credentials as amqpCredentials, type SocketOptions } from 'amqplib';
import type { RedisOptions } from 'ioredis';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import type { ProviderConfig } from './config.js';
import { readTls } from './secrets.js';

/** How to print a URL these options connect to: without its password. */
export { redactUrl } from './secrets.js';

type Nats = Extract<ProviderConfig, { kind: 'nats' }>;
type Redis = Extract<ProviderConfig, { kind: 'redis' }>;
type Amqp = Extract<ProviderConfig, { kind: 'amqp' }>;

/** What a NATS provider authenticates and connects with; its streams play no part. */
export type NatsSecurity = Pick<
  Nats,
  'token' | 'user' | 'password' | 'credentials' | 'nkey' | 'tls'
>;
/** What a Redis provider authenticates and connects with, beside its URL. */
export type RedisSecurity = Pick<Redis, 'username' | 'password' | 'tls'>;
/** What an AMQP provider authenticates and connects with, beside its URL. */
export type AmqpSecurity = Pick<Amqp, 'username' | 'password' | 'tls'>;

/** nats.js options for `url` (comma-separated servers): one way to authenticate, and TLS. */
export function natsConnectionOptions(url: string, security: NatsSecurity): ConnectionOptions {
  const options: ConnectionOptions = { servers: url.split(',').map((s) => s.trim()) };
  if (security.token) options.token = security.token;
  if (security.user) options.user = security.user;
  if (security.password) options.pass = security.password;
  if (security.credentials) {
    options.authenticator = credsAuthenticator(readFileSync(security.credentials));
  }
  if (security.nkey) {
    const seed = readFileSync(security.nkey, 'utf8').trim();
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (security.tls) options.tls = readTls(security.tls);
  return options;
}

/** ioredis options beside the URL: user and password over the URL's, and TLS. */
export function redisConnectionOptions(
  security: RedisSecurity,
): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const options: Pick<RedisOptions, 'username' | 'password' | 'tls'> = {};
  if (security.username) options.username = security.username;
  if (security.password) options.password = security.password;
  if (security.tls) options.tls = readTls(security.tls);
  return options;
}

/**
 * amqplib's URL and socket options: `tls` turns `amqp://` into `amqps://` (its default port
 * then 5671), and a user or password given beside the URL replaces the URL's.
 */
export function amqpConnectionOptions(
  url: string,
  security: AmqpSecurity,
): { url: string; socket: SocketOptions } {
  const parsed = new URL(url);
  const socket: SocketOptions = {};
  if (security.tls) {
    if (parsed.protocol === 'amqp:') parsed.protocol = 'amqps:';
    Object.assign(socket, readTls(security.tls));
  }
  if (security.username || security.password) {
    socket.credentials = amqpCredentials.plain(
      security.username ?? (decodeURIComponent(parsed.username) || 'guest'),
      security.password ?? (decodeURIComponent(parsed.password) || 'guest'),
    );
  }
  return { url: parsed.toString(), socket };
}

/**
 * The URL asking for a heartbeat every `intervalMs` (in whole seconds, as AMQP counts them),
 * unless it asks for one itself. Without one, amqplib takes the broker's (RabbitMQ: 60 s), and
 * a frozen broker is noticed only after two minutes.
 */
export function amqpHeartbeatUrl(url: string, intervalMs: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) {
    parsed.searchParams.set('heartbeat', String(Math.ceil(intervalMs / 1000)));
  }
  return parsed.toString();
}

/**
 * How long a Redis or AMQP connection may take from its TCP connection to being ready (AUTH,
 * ready check; AMQP's handshake): a broker that accepts connections but never answers (a
 * frozen one, a silent proxy) is then dropped and tried again, instead of holding start-up
 * or a reconnection for good.
 */
export const BROKER_HANDSHAKE_TIMEOUT_MS = 5_000;
