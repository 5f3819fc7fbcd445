import { connect, type NatsConnection } from 'nats';
import { ProviderError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventProvider } from './provider.js';

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
