/**
 * `pnpm start`: NATS, the three subgraphs and the router on their default ports (see
 * ports.ts for the variables that move them).
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from '@edfs/router';
import { routerConfigFile, startExampleStack } from './example-stack.js';
import { NatsServerNotFoundError } from './nats-server.js';
import { readStackPorts, stackPortProblems, StackPortError, type StackPorts } from './ports.js';

const env = process.env;
const logger = pino({ level: env['LOG_LEVEL'] ?? 'info' });
const natsUrl = env['NATS_URL'] || undefined; // set: use that NATS instead of spawning one

function fail(...lines: string[]): never {
  for (const line of lines) console.error(`pnpm start: ${line}`);
  process.exit(1);
}

/** The ports asked for, once each is known to be free: nothing has started yet. */
async function freePorts(): Promise<StackPorts> {
  let ports: StackPorts;
  let routerHost: string;
  try {
    ports = readStackPorts(env);
    routerHost = loadConfig(routerConfigFile, env).listen.host;
  } catch (error) {
    if (error instanceof StackPortError || error instanceof ConfigError) fail(error.message);
    throw error;
  }
  // One line per clash; left to nats-server, a clash was a fatal log with the cause at its end.
  const { nats, natsMonitor, ...servers } = ports;
  const problems = await stackPortProblems(natsUrl ? servers : ports, { router: routerHost });
  if (problems.length > 0) fail(...problems);
  return ports;
}

const ports = await freePorts();

try {
  const stack = await startExampleStack({
    natsUrl,
    ports,
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
  if (error instanceof NatsServerNotFoundError) fail(error.message);
  logger.fatal({ err: error }, 'the example stack did not start');
  process.exit(1);
}
