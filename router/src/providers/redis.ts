import { Redis } from 'ioredis';
import { ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  BROKER_HANDSHAKE_TIMEOUT_MS,
  redisConnectionOptions,
  type RedisSecurity,
} from './connection-options.js';
import type {
  EventProvider,
  ProviderTraits,
  SubjectSyntax,
  SubscriptionHandlers,
} from './provider.js';
import { PORTABLE_TOKEN_SYNTAX } from './token-syntax.js';

/**
 * One token of a Redis channel, from a client's argument: the same allow-list as NATS
 * (ASCII letters, digits, `- _ ~ : @ + = %`, 1 to 128). The router only ever SUBSCRIBEs, which
 * takes a channel literally, but a value that is a PSUBSCRIBE pattern elsewhere (`* ? [ ] \`)
 * or holds white space is refused all the same, and so is `.`: a template's separators are
 * its own literal text, and a value is one token on every broker, so `price.{{ args.sku }}`
 * means the same subjects whichever provider carries it.
 */
export const REDIS_SUBJECT_SYNTAX: SubjectSyntax = PORTABLE_TOKEN_SYNTAX;

/** Redis pub/sub: live channels only, delivered at most once. */
export const REDIS_TRAITS: ProviderTraits = {
  kind: 'redis',
  syntax: REDIS_SUBJECT_SYNTAX,
  capabilities: { streams: false, request: false },
};

export interface RedisProviderOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
  logger: Logger;
  /** The provider's id in the config. @default "default" */
  id?: string;
  /** Connection name shown by `CLIENT LIST`. @default "edfs-router" */
  name?: string;
  /** The longest pause between reconnection attempts; they start at 50 ms and double. @default 2000 */
  maxRetryMs?: number;
  /** User and password over the URL's, and TLS. @default the URL's */
  security?: RedisSecurity;
  /**
   * How often the subscriber connection is pinged: after two pings without an answer it is
   * taken for dead and reconnected (a frozen server keeps its TCP connections). @default 10000
   */
  pingIntervalMs?: number | undefined;
}

/** One channel the router listens on, and the subscriptions that share its SUBSCRIBE. */
interface Channel {
  readonly handlers: Set<SubscriptionHandlers>;
  /** Redis has confirmed the SUBSCRIBE. */
  confirmed: boolean;
}

/**
 * Listens on Redis channels with one connection in subscriber mode (ioredis): one SUBSCRIBE
 * per channel, however many subjects' subscribers share it, and an UNSUBSCRIBE when the last
 * one leaves. Unreachable at start-up, the router starts anyway; ioredis queues the commands
 * and reconnects by itself with backoff, and the router subscribes again to every channel. A
 * second connection, with the same credentials and TLS, PUBLISHes (a subscriber connection
 * cannot), failing at once while it is down.
 */
export function connectRedis(options: RedisProviderOptions): EventProvider {
  const { logger } = options;
  const id = options.id ?? 'default';
  const maxRetryMs = options.maxRetryMs ?? 2000;
  const channels = new Map<string, Channel>();
  const reconnected: (() => void)[] = [];
  let closing = false;
  let everReady = false;
  /** Connections made ready so far: a resubscribe tells only if no other came meanwhile. */
  let reconnects = 0;
  /** Whether the current outage (or the first failed attempt) has been logged. */
  let outageLogged = false;

  const client = new Redis(options.url, {
    ...redisConnectionOptions(options.security ?? {}),
    connectionName: options.name ?? 'edfs-router',
    // Subscribed again here, one channel at a time (`resubscribe`): ioredis's own sends one
    // SUBSCRIBE for all, which a refusal of one channel refuses whole, unhandled.
    autoResubscribe: false,
    // Commands wait for the connection however long it is down, instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (times) =>
      closing ? null : Math.min(50 * 2 ** Math.min(times, 10), maxRetryMs),
  });
  const publisher = new Redis(options.url, {
    ...redisConnectionOptions(options.security ?? {}),
    connectionName: `${options.name ?? 'edfs-router'}-publisher`,
    // A publish while Redis is down fails now (the mutation says so) rather than waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) =>
      closing ? null : Math.min(50 * 2 ** Math.min(times, 10), maxRetryMs),
  });
  // Outages of the server are logged by the subscriber connection; each publish says its own.
  publisher.on('error', (error: Error) =>
    logger.debug({ err: error }, 'Redis publisher connection error'),
  );
  const firstAttempt = new Promise<void>((resolve) => {
    client.once('ready', () => resolve());
    client.once('error', () => resolve());
    client.once('handshake-timeout', () => resolve());
  });
  for (const connection of [client, publisher]) watchHandshake(connection);
  const stopPinging = pingUntilSilent(client, options.pingIntervalMs ?? 10_000, () =>
    logger.warn('Redis stopped answering pings; reconnecting'),
  );

  client.on('ready', () => {
    outageLogged = false;
    logger.info('connected to Redis');
    reconnects++;
    if (everReady) void resubscribe();
    everReady = true;
  });
  // One line per outage, not one per attempt; a server that shuts down cleanly sends no error.
  const outage = (error?: Error): void => {
    if (closing || outageLogged) return;
    outageLogged = true;
    const refused = error !== undefined && /^(WRONGPASS|NOAUTH)/.test(error.message);
    logger.warn(
      error ? { err: withoutCommand(error) } : {},
      refused
        ? `Redis refused the router’s credentials; retrying${everReady ? '' : ' in the background'}`
        : everReady
          ? 'lost the Redis connection; reconnecting'
          : 'cannot reach Redis; retrying in the background',
    );
  };
  client.on('error', (error: Error) => outage(error));
  client.on('reconnecting', () => outage());
  client.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const entry = channels.get(channel.toString());
    if (entry) for (const handlers of entry.handlers) handlers.onMessage(message);
  });

  /** A refused SUBSCRIBE ends that channel's subscriptions, and only those. */
  const refused = (channel: string, entry: Channel, cause: unknown): void => {
    if (channels.get(channel) !== entry) return;
    channels.delete(channel);
    const message = cause instanceof Error ? cause.message : 'SUBSCRIBE refused';
    for (const handlers of entry.handlers) {
      handlers.onError(new ProviderError(message, 'redis', channel, { cause }));
    }
  };

  const subscribeChannel = (channel: string): Channel => {
    const entry: Channel = { handlers: new Set(), confirmed: false };
    channels.set(channel, entry);
    client.subscribe(channel).then(
      () => {
        if (channels.get(channel) !== entry) return;
        entry.confirmed = true;
        for (const handlers of entry.handlers) handlers.onReady?.();
      },
      (cause: unknown) => refused(channel, entry, cause),
    );
    return entry;
  };

  /**
   * After a reconnect: every channel again, one SUBSCRIBE each, so that one the server now
   * refuses (the router's ACL narrowed) ends only its own subscriptions; then, with every
   * channel listened to again, the subscribers are told what they may have missed.
   */
  const resubscribe = async (): Promise<void> => {
    const reconnect = reconnects;
    await Promise.all(
      [...channels].map(([channel, entry]) =>
        client.subscribe(channel).then(
          () => undefined,
          (cause: unknown) => refused(channel, entry, cause),
        ),
      ),
    );
    // Lost again meanwhile: the next reconnect's resubscribe tells them, once.
    if (!closing && reconnect === reconnects) for (const listener of reconnected) listener();
  };

  return {
    ...REDIS_TRAITS,
    id,
    name: 'redis',
    firstAttempt,
    isConnected: () => client.status === 'ready',
    subscribe(channel, handlers) {
      const entry = channels.get(channel) ?? subscribeChannel(channel);
      entry.handlers.add(handlers);
      if (entry.confirmed) handlers.onReady?.();
      return {
        unsubscribe: () => {
          if (!entry.handlers.delete(handlers) || entry.handlers.size > 0) return;
          if (channels.get(channel) !== entry) return;
          channels.delete(channel);
          if (closing) return;
          client
            .unsubscribe(channel)
            .catch((error: unknown) =>
              logger.warn({ err: error, channel }, 'Redis UNSUBSCRIBE failed'),
            );
        },
      };
    },
    async publish(channel, data) {
      try {
        await publisher.publish(channel, Buffer.from(data));
      } catch (cause) {
        throw new ProviderError((cause as Error).message, 'redis', channel, { cause });
      }
    },
    // Start-up keeps request fields off this provider; a request is refused all the same.
    async request(channel) {
      throw new ProviderError('Redis pub/sub has no request/reply', 'redis', channel);
    },
    // Start-up keeps stream-reading fields off this provider; a replay is refused all the same.
    async *replay(request) {
      throw new ProviderError(
        'Redis pub/sub stores no messages to replay',
        'redis',
        request.subject,
      );
    },
    onReconnect(listener) {
      reconnected.push(listener);
    },
    async close() {
      closing = true;
      stopPinging();
      channels.clear();
      await Promise.all(
        [client, publisher].map(async (connection) => {
          if (connection.status === 'ready') {
            await connection
              .quit()
              .catch((error: unknown) => logger.warn({ err: error }, 'Redis QUIT failed'));
          }
          connection.disconnect();
        }),
      );
    },
  };
}

/**
 * Pings a ready connection every `intervalMs`; when two pings in a row are unanswered, drops
 * it so that ioredis reconnects (and `silent` is told). Returns what stops the pinging.
 */
function pingUntilSilent(connection: Redis, intervalMs: number, silent: () => void): () => void {
  let unanswered = 0;
  const timer = setInterval(() => {
    if (connection.status !== 'ready') return void (unanswered = 0);
    if (unanswered >= 2) {
      unanswered = 0;
      silent();
      return void connection.disconnect(true);
    }
    unanswered++;
    connection.ping().then(
      () => void (unanswered = 0),
      () => {}, // the connection's own error handling reports it
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Drops a connection that is not ready `BROKER_HANDSHAKE_TIMEOUT_MS` after its TCP
 * connection (ioredis's own timeout stops there), so that it is tried again; it emits
 * `handshake-timeout` then.
 */
function watchHandshake(connection: Redis): void {
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => clearTimeout(timer);
  connection.on('connect', () => {
    stop();
    timer = setTimeout(() => {
      connection.emit('handshake-timeout');
      connection.disconnect(true);
    }, BROKER_HANDSHAKE_TIMEOUT_MS);
  });
  connection.on('ready', stop);
  connection.on('close', stop);
}

/**
 * The error without the command ioredis attaches to it: a refused AUTH or HELLO carries the
 * password among its arguments, and a log must not.
 */
function withoutCommand(error: Error): Error {
  if (!('command' in error)) return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  return copy;
}
