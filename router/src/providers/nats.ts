import { connect, type NatsConnection } from 'nats';
import { ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  EventProvider,
  ProviderSubscription,
  SubjectSyntax,
  SubscriptionHandlers,
} from './provider.js';

const TOKEN = /^[A-Za-z0-9_~:@+=%-]{1,128}$/;

/**
 * One token of a NATS subject, from a client's argument: ASCII letters, digits and
 * `- _ ~ : @ + = %`, 1 to 128 of them. That keeps out the separator `.`, the wildcards `*`
 * and `>`, white space and control characters, and keeps every SUB line far below the
 * server's control-line limit (4 KiB), past which the server drops the whole connection.
 * A subject is at most 255 bytes, which every broker we support accepts (AMQP's limit).
 */
export const NATS_SUBJECT_SYNTAX: SubjectSyntax = {
  isToken: (value) => TOKEN.test(value),
  tokenRule: '1 to 128 ASCII letters, digits or - _ ~ : @ + = %',
  maxSubjectBytes: 255,
};

export interface NatsProviderOptions {
  /** Server URL(s), comma-separated. */
  url: string;
  logger: Logger;
  /** Connection name shown by the server's monitoring. @default "edfs-router" */
  name?: string;
  /** Pause between attempts while NATS has never been reached. @default 1000 */
  retryMs?: number;
}

/** The NATS provider, and when its first connection attempt has settled either way. */
export interface NatsProvider extends EventProvider {
  /** Settles after the first attempt to connect, whether it worked or not. */
  readonly firstAttempt: Promise<void>;
}

/** A client subscription made before NATS was first reached, sent once it is. */
interface Pending {
  readonly subject: string;
  readonly handlers: SubscriptionHandlers;
  subscription?: ProviderSubscription;
}

/**
 * Connects to NATS (core subjects, no JetStream). If NATS cannot be reached at start-up, the
 * router starts anyway and keeps trying; subscriptions made meanwhile are sent once it
 * connects. After that the client reconnects by itself and restores every subscription.
 */
export function connectNats(options: NatsProviderOptions): NatsProvider {
  const { logger } = options;
  const servers = options.url.split(',').map((s) => s.trim());
  let nc: NatsConnection | undefined;
  let connected = false;
  let closing = false;
  const pending = new Set<Pending>();
  let retry: { timer: NodeJS.Timeout; wake(): void } | undefined;

  const subscribeNow = (
    conn: NatsConnection,
    subject: string,
    { onMessage, onError }: SubscriptionHandlers,
  ): ProviderSubscription => {
    const subscription = conn.subscribe(subject, {
      callback: (error, message) => {
        if (error) onError(new ProviderError(error.message, 'nats', subject, { cause: error }));
        else onMessage(message.data);
      },
    });
    return { unsubscribe: () => subscription.unsubscribe() };
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
      } else if (status.type === 'error') {
        logger.error({ err: status.data }, 'NATS error');
      }
    }
  };

  const attempt = async (): Promise<boolean> => {
    let conn: NatsConnection;
    try {
      conn = await connect({
        servers,
        name: options.name ?? 'edfs-router',
        maxReconnectAttempts: -1,
      });
    } catch {
      return false; // refused or unreachable: the caller says so once and retries
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
        entry.subscription = subscribeNow(conn, entry.subject, entry.handlers);
      } catch (error) {
        entry.handlers.onError(
          new ProviderError('subscribe failed', 'nats', entry.subject, { cause: error }),
        );
      }
    }
    pending.clear();
    return true;
  };

  const firstAttempt = attempt().then((ok) => {
    if (ok) return;
    logger.warn(
      { url: options.url },
      'cannot reach NATS; serving queries and retrying in the background',
    );
    void (async () => {
      while (!closing && !(await attempt())) {
        await new Promise<void>((wake) => {
          retry = { timer: setTimeout(wake, options.retryMs ?? 1000), wake };
        });
      }
    })();
  });

  return {
    name: 'nats',
    syntax: NATS_SUBJECT_SYNTAX,
    firstAttempt,
    isConnected: () => connected && nc !== undefined && !nc.isClosed(),
    subscribe(subject, handlers) {
      if (nc) return subscribeNow(nc, subject, handlers);
      const entry: Pending = { subject, handlers };
      pending.add(entry);
      return {
        unsubscribe: () => {
          if (entry.subscription) entry.subscription.unsubscribe();
          else pending.delete(entry);
        },
      };
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
