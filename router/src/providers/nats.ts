import { connect, type NatsConnection } from 'nats';
import { ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventProvider, SubjectSyntax } from './provider.js';

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
}

/**
 * Connects to NATS (core subjects, no JetStream) and keeps reconnecting for as long as the
 * router runs; subscriptions are restored by the client on reconnect.
 */
export async function connectNats(options: NatsProviderOptions): Promise<EventProvider> {
  const { logger } = options;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name ?? 'edfs-router',
      maxReconnectAttempts: -1,
    });
  } catch (cause) {
    throw new ProviderError(`cannot connect to ${options.url}`, 'nats', undefined, { cause });
  }
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
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
  })();

  return {
    name: 'nats',
    syntax: NATS_SUBJECT_SYNTAX,
    isConnected: () => connected && !nc.isClosed(),
    subscribe(subject, { onMessage, onError }) {
      const subscription = nc.subscribe(subject, {
        callback: (error, message) => {
          if (error) onError(new ProviderError(error.message, 'nats', subject, { cause: error }));
          else onMessage(message.data);
        },
      });
      return { unsubscribe: () => subscription.unsubscribe() };
    },
    async close() {
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
