import { connect, JSONCodec, type NatsConnection } from 'nats';
import { EventPublishError, NatsConnectError } from './errors.js';
import { createSubgraphLogger, type Logger } from './logger.js';
import type { EntityEvent, EventPublisher } from './publisher.js';

export interface NatsPublisherOptions {
  /**
   * Where publish failures and connection loss are reported.
   * @default createSubgraphLogger('nats-publisher')
   */
  logger?: Logger | undefined;
  /**
   * The client name the NATS server shows in its monitoring.
   * @default 'edfs-subgraph'
   */
  name?: string | undefined;
}

/**
 * Connects to NATS at `url` (e.g. `nats://127.0.0.1:4222`) and publishes events as JSON.
 *
 * @throws NatsConnectError when the server cannot be reached.
 */
export async function connectNatsPublisher(
  url: string,
  options: NatsPublisherOptions = {},
): Promise<EventPublisher> {
  const logger = options.logger ?? createSubgraphLogger('nats-publisher');
  let connection: NatsConnection;
  try {
    connection = await connect({ servers: url, name: options.name ?? 'edfs-subgraph' });
  } catch (cause) {
    throw new NatsConnectError(url, { cause });
  }
  void connection.closed().then((error) => {
    if (error) logger.error({ err: error, url }, 'NATS connection closed with an error');
  });
  const codec = JSONCodec<EntityEvent>();
  let closing: Promise<void> | undefined;

  return {
    publish(subject, event) {
      try {
        connection.publish(subject, codec.encode(event));
      } catch (cause) {
        logger.error({ err: new EventPublishError(subject, { cause }), subject }, 'publish failed');
      }
    },
    close() {
      // A drain while disconnected resolves but leaves nats.js reconnecting: close after it.
      closing ??= (connection.isClosed() ? Promise.resolve() : connection.drain())
        .catch((error: unknown) => logger.warn({ err: error }, 'NATS drain failed'))
        .then(() => (connection.isClosed() ? undefined : connection.close()));
      return closing;
    },
  };
}
