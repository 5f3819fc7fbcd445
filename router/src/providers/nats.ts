import { connect, ErrorCode, type JetStreamManager, type NatsConnection } from 'nats';
import {
  BrokerTimeoutError,
  NoRespondersError,
  ProviderError,
  StreamConfigError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { natsConnectionOptions, type NatsSecurity } from './connection-options.js';
import {
  ensureStreams,
  replayStream,
  subscribeStream,
  type StreamDeclaration,
  type StreamHead,
  type StreamRequirement,
} from './nats-streams.js';
import type {
  EventProvider,
  ProviderSubscription,
  ProviderTraits,
  SubjectSyntax,
  SubscriptionHandlers,
} from './provider.js';
import { redactUrl } from './secrets.js';
import { StreamHeads } from './stream-heads.js';
import { PORTABLE_TOKEN_SYNTAX } from './token-syntax.js';

/**
 * One token of a NATS subject, from a client's argument: ASCII letters, digits and
 * `- _ ~ : @ + = %`, 1 to 128 of them. That keeps out the separator `.`, the wildcards `*`
 * and `>`, white space and control characters, and keeps every SUB line far below the
 * server's control-line limit (4 KiB), past which the server drops the whole connection.
 * A subject is at most 255 bytes, which every broker we support accepts (AMQP's limit).
 */
export const NATS_SUBJECT_SYNTAX: SubjectSyntax = PORTABLE_TOKEN_SYNTAX;

/** NATS subjects, JetStream streams for fields that name one, and request/reply. */
export const NATS_TRAITS: ProviderTraits = {
  kind: 'nats',
  syntax: NATS_SUBJECT_SYNTAX,
  capabilities: { streams: true, request: true },
};

export interface NatsProviderOptions {
  /** Server URL(s), comma-separated. */
  url: string;
  logger: Logger;
  /** The provider's id in the config. @default "default" */
  id?: string;
  /** Connection name shown by the server's monitoring. @default "edfs-router" */
  name?: string;
  /** Pause between attempts while NATS has never been reached. @default 1000 */
  retryMs?: number;
  /**
   * How often the client pings the server (`nats.pingIntervalMs`): two pings without an
   * answer and it reconnects. @default 10000 (nats.js's own is 2 minutes)
   */
  pingIntervalMs?: number;
  /** Streams to create when missing. @default [] */
  streams?: readonly StreamDeclaration[];
  /** Streams that fields read, checked on connecting. @default [] */
  requiredStreams?: readonly StreamRequirement[];
  /** How the router authenticates (one way at most) and whether TLS is on. @default none */
  security?: NatsSecurity;
}

/** A client subscription made before NATS was first reached, sent once it is. */
interface Pending {
  readonly subject: string;
  readonly handlers: SubscriptionHandlers;
  readonly stream: string | undefined;
  subscription?: ProviderSubscription;
}

/**
 * Connects to NATS: core subjects, and JetStream streams for fields that name one. If NATS
 * cannot be reached at start-up, the
 * router starts anyway and keeps trying; subscriptions made meanwhile are sent once it
 * connects. After that the client reconnects by itself and restores every subscription.
 * Its `firstAttempt` rejects with `StreamConfigError` if NATS was reached and a stream is
 * missing or wrong.
 */
export function connectNats(options: NatsProviderOptions): EventProvider {
  const { logger } = options;
  const connectionOptions = natsConnectionOptions(options.url, options.security ?? {});
  let nc: NatsConnection | undefined;
  /** JetStream's management API, fetched once it is first needed (it is a round trip). */
  let jsm: Promise<JetStreamManager> | undefined;
  const reconnected: (() => void)[] = [];
  let connected = false;
  let closing = false;
  const pending = new Set<Pending>();
  let retry: { timer: NodeJS.Timeout; wake(): void } | undefined;
  /** Publishes waiting for their flush, by subject; a refusal NATS reports fails them. */
  const publishing = new Map<string, Set<(refusal: ProviderError) => void>>();

  /** A failed attempt is not kept: JetStream may answer the next one (after a restart). */
  const manager = (conn: NatsConnection): Promise<JetStreamManager> =>
    (jsm ??= conn.jetstreamManager().catch((error: unknown) => {
      jsm = undefined;
      throw error;
    }));

  /** Where streams stand, read once for the subscriptions asking together. */
  const heads = new StreamHeads<StreamHead>(async (stream) => {
    if (!nc) throw new ProviderError('not connected yet', 'nats', stream);
    const { state, created } = await (await manager(nc)).streams.info(stream);
    return { next: state.last_seq + 1, created };
  });

  const subscribeNow = (
    conn: NatsConnection,
    subject: string,
    handlers: SubscriptionHandlers,
    stream: string | undefined,
  ): ProviderSubscription => {
    if (stream) {
      return subscribeStream(conn.jetstream(), heads, stream, subject, handlers, (err, inMs) =>
        logger.warn(
          { err, stream, subject, retryInMs: inMs },
          'stream subscription not started: JetStream did not answer; asking again',
        ),
      );
    }
    // One callback per subject, written as a method: tsx's keepNames would give a named
    // arrow function a property table of its own, for every subject subscribed.
    const subscription = conn.subscribe(subject, {
      callback(error, message) {
        if (error) {
          handlers.onError(new ProviderError(error.message, 'nats', subject, { cause: error }));
        } else handlers.onMessage(message.data);
      },
    });
    handlers.onReady?.();
    return subscription; // its unsubscribe() is ours
  };

  const watch = async (conn: NatsConnection): Promise<void> => {
    for await (const status of conn.status()) {
      if (closing) continue; // a disconnect while stopping is the stop itself
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        connected = status.type === 'reconnect';
        logger.warn(
          { status: status.type, server: String(status.data) },
          'NATS connection changed',
        );
        if (connected) for (const listener of reconnected) listener();
      } else if (status.type === 'error') {
        const refused = status.permissionContext;
        if (refused?.operation === 'publish') {
          const refusal = new ProviderError(
            'permission to publish refused',
            'nats',
            refused.subject,
          );
          for (const refuse of publishing.get(refused.subject) ?? []) refuse(refusal);
        }
        logger.error({ err: status.data, refused }, 'NATS error');
      }
    }
  };

  /**
   * Creates missing declared streams and checks the ones fields read. At start-up (`strict`)
   * a mistake stops the router; on a later first connection it is logged, and only the
   * subscriptions of the fields concerned fail.
   */
  const checkStreams = async (conn: NatsConnection, strict: boolean): Promise<void> => {
    const declared = options.streams ?? [];
    const required = options.requiredStreams ?? [];
    if (declared.length === 0 && required.length === 0) return;
    try {
      let jsm: JetStreamManager;
      try {
        jsm = await conn.jetstreamManager();
      } catch (cause) {
        const [first] = [...declared.map((d) => d.name), ...required.map((r) => r.stream)];
        throw new StreamConfigError(
          'JetStream is not enabled on this NATS server (start nats-server with -js)',
          first!,
          { cause },
        );
      }
      await ensureStreams(jsm, declared, required);
    } catch (error) {
      if (strict) throw error;
      logger.error({ err: error }, 'JetStream streams are not as the router needs them');
    }
  };

  /** Resolves `true` once connected, or with why not (the caller says so once and retries). */
  const attempt = async (strict: boolean): Promise<true | Error> => {
    let conn: NatsConnection;
    try {
      conn = await connect({
        ...connectionOptions,
        name: options.name ?? 'edfs-router',
        maxReconnectAttempts: -1,
        pingInterval: options.pingIntervalMs ?? 10_000,
        maxPingOut: 2,
      });
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    try {
      if (!closing) await checkStreams(conn, strict);
    } catch (error) {
      await conn.close();
      throw error;
    }
    if (closing) {
      await conn.close();
      return true;
    }
    nc = conn;
    connected = true;
    logger.info({ server: conn.getServer() }, 'connected to NATS');
    void watch(conn).catch((error: unknown) => logger.error({ err: error }, 'NATS status failed'));
    for (const entry of pending) {
      try {
        entry.subscription = subscribeNow(conn, entry.subject, entry.handlers, entry.stream);
      } catch (error) {
        entry.handlers.onError(
          new ProviderError('subscribe failed', 'nats', entry.subject, { cause: error }),
        );
      }
    }
    pending.clear();
    return true;
  };

  const firstAttempt = attempt(true).then((result) => {
    if (result === true) return;
    const refused = (result as { code?: unknown }).code === ErrorCode.AuthorizationViolation;
    logger.warn(
      { url: redactUrl(options.url), err: result },
      refused
        ? 'NATS refused the router’s credentials; serving queries and retrying in the background'
        : 'cannot reach NATS; serving queries and retrying in the background',
    );
    void (async () => {
      while (!closing && (await attempt(false)) !== true) {
        await new Promise<void>((wake) => {
          retry = { timer: setTimeout(wake, options.retryMs ?? 1000), wake };
        });
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'connecting to NATS failed'));
  });

  /** The connection, if events can flow on it now; otherwise the error saying so. */
  const live = (subject: string): NatsConnection => {
    // While reconnecting nats.js would buffer a publish; the caller is told instead.
    if (!nc || !connected || nc.isClosed()) {
      throw new ProviderError('not connected', 'nats', subject);
    }
    return nc;
  };

  return {
    ...NATS_TRAITS,
    id: options.id ?? 'default',
    name: 'nats',
    firstAttempt,
    isConnected: () => connected && nc !== undefined && !nc.isClosed(),
    subscribe(subject, handlers, { stream } = {}) {
      if (nc) return subscribeNow(nc, subject, handlers, stream);
      const entry: Pending = { subject, handlers, stream };
      pending.add(entry);
      return {
        unsubscribe: () => {
          if (entry.subscription) entry.subscription.unsubscribe();
          else pending.delete(entry);
        },
      };
    },
    async publish(subject, data) {
      const conn = live(subject);
      let refusal: ProviderError | undefined;
      const refuse = (error: ProviderError): void => void (refusal ??= error);
      const waiting = publishing.get(subject) ?? new Set();
      publishing.set(subject, waiting.add(refuse));
      try {
        conn.publish(subject, data);
        // The server answers the flush's PING after the message: it has taken it, or has
        // sent its refusal (a permission) first, which `watch` reads from the status
        // stream a few promise turns later; setImmediate runs after those.
        await conn.flush();
        await new Promise((resolve) => setImmediate(resolve));
      } catch (cause) {
        throw new ProviderError((cause as Error).message, 'nats', subject, { cause });
      } finally {
        waiting.delete(refuse);
        if (waiting.size === 0) publishing.delete(subject);
      }
      if (refusal) throw refusal;
    },
    async request(subject, data, timeoutMs) {
      const conn = live(subject);
      try {
        return (await conn.request(subject, data, { timeout: timeoutMs })).data;
      } catch (cause) {
        const code = (cause as { code?: unknown }).code;
        if (code === ErrorCode.NoResponders) {
          throw new NoRespondersError('no responders', 'nats', subject, { cause });
        }
        if (code === ErrorCode.Timeout) {
          throw new BrokerTimeoutError('nats', subject, timeoutMs, { cause });
        }
        throw new ProviderError((cause as Error).message, 'nats', subject, { cause });
      }
    },
    async *replay(request) {
      if (!nc) throw new ProviderError('not connected yet', 'nats', request.subject);
      const conn = nc;
      yield* replayStream(
        conn.jetstream(),
        () => manager(conn),
        request,
        (err, inMs) =>
          logger.warn(
            { err, stream: request.stream, subject: request.subject, retryInMs: inMs },
            'stream replay not started: JetStream did not answer; asking again',
          ),
      );
    },
    onReconnect(listener) {
      reconnected.push(listener);
    },
    async close() {
      closing = true;
      if (retry) {
        clearTimeout(retry.timer);
        retry.wake();
      }
      if (!nc) return;
      // Drain only a live connection; nats.js resolves a drain while disconnected and then
      // keeps reconnecting, so the connection is closed in any case.
      if (connected && !nc.isClosed()) {
        await nc
          .drain()
          .catch((error: unknown) => logger.warn({ err: error }, 'NATS drain failed'));
      }
      if (!nc.isClosed()) await nc.close();
    },
  };
}
