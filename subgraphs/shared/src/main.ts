import { readSubgraphEnvironment } from './env.js';
import { createSubgraphLogger, type Logger } from './logger.js';
import { connectNatsPublisher } from './nats-publisher.js';
import type { EventPublisher } from './publisher.js';
import type { RunningSubgraph } from './serve.js';

/** What `runSubgraphMain` hands to a subgraph's `start`. */
export interface SubgraphStartContext {
  port: number;
  host: string;
  logger: Logger;
  /** Connects to `NATS_URL`; the connection is drained on shutdown. Call at most once. */
  connectPublisher(): Promise<EventPublisher>;
}

export interface SubgraphMainOptions {
  /** The subgraph's name, used in logs. */
  name: string;
  /** The port used when `PORT` is unset. */
  defaultPort: number;
  /** Starts the subgraph from the environment's settings. */
  start(context: SubgraphStartContext): Promise<RunningSubgraph>;
}

/**
 * The body of a subgraph's standalone `main.ts`: reads `PORT`, `HOST` and `NATS_URL`,
 * starts the subgraph, logs its URL, and on SIGINT or SIGTERM closes the server and then
 * the NATS connection. Failures are logged and set a non-zero exit code.
 */
export async function runSubgraphMain(options: SubgraphMainOptions): Promise<void> {
  const logger = createSubgraphLogger(options.name);
  let publisher: EventPublisher | undefined;
  let subgraph: RunningSubgraph | undefined;

  const stop = async (): Promise<void> => {
    await subgraph?.close();
    await publisher?.close();
  };

  try {
    const { port, host, natsUrl } = readSubgraphEnvironment(process.env, options.defaultPort);
    subgraph = await options.start({
      port,
      host,
      logger,
      connectPublisher: async () => {
        publisher = await connectNatsPublisher(natsUrl, { logger, name: options.name });
        logger.info({ natsUrl }, 'connected to NATS');
        return publisher;
      },
    });
  } catch (error) {
    logger.fatal({ err: error }, 'subgraph failed to start');
    process.exitCode = 1;
    await stop().catch((closeError: unknown) =>
      logger.error({ err: closeError }, 'cleanup failed'),
    );
    return;
  }
  logger.info({ url: subgraph.url }, 'subgraph listening');

  const onSignal = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    logger.info({ signal }, 'subgraph stopping');
    stop().then(
      () => logger.info('subgraph stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'subgraph did not stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
