/** `pnpm start`: NATS, the three subgraphs and the router on their default ports. */
import { pino } from 'pino';
import { startExampleStack } from './example-stack.js';
import { NatsServerNotFoundError } from './nats-server.js';

const env = process.env;
const logger = pino({ level: env['LOG_LEVEL'] ?? 'info' });

try {
  const stack = await startExampleStack({
    natsUrl: env['NATS_URL'],
    ports: {
      router: Number(env['PORT'] ?? 4000),
      message: 4001,
      user: 4002,
      scrapeJob: 4003,
      nats: 4222,
      natsMonitor: 8222,
    },
    env,
    logger,
  });
  const url = stack.router.url;
  console.log(`
EDFS Router example stack is up.

  GraphQL (HTTP and WebSocket)  ${url}
  Health                        ${url.replace('/graphql', '/health')}
  Subgraphs                     message ${stack.subgraphs.message.url}
                                user ${stack.subgraphs.user.url}
                                scrape-job ${stack.subgraphs.scrapeJob.url}
  NATS                          ${stack.natsUrl}${stack.nats ? ` (monitoring ${stack.nats.monitorUrl})` : ''}

Subscribe with any graphql-transport-ws client, e.g.
  subscription { messageAdded(roomID: "123") { id text user { name } } }

then publish the key of what changed:
  nats pub 'room.123.messages' '{"__typename":"Message","id":"1"}'
  pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'    (no NATS CLI needed)

Ctrl-C stops everything.
`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  if (error instanceof NatsServerNotFoundError) console.error(`pnpm start: ${error.message}`);
  else logger.fatal({ err: error }, 'the example stack did not start');
  process.exit(1);
}
