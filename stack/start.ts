/**
 * `pnpm start`: NATS, the three subgraphs and the router on their default ports (see
 * ports.ts for the variables that move them). Ctrl-C stops everything, NATS last, and exits 0.
 * The scrape-job subgraph may fetch private addresses unless SCRAPE_ALLOW_PRIVATE=0: its
 * demo page, which the README's example scrapes, is on 127.0.0.1.
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from '@edfs/router/config';
import type { ExampleStack } from './example-stack.js';
import { NatsServerNotFoundError } from './nats-server.js';
import { readStackPorts, stackPortProblems, StackPortError, type StackPorts } from './ports.js';
import { routerConfigFile } from './router-config-file.js';

const env: NodeJS.ProcessEnv = { SCRAPE_ALLOW_PRIVATE: '1', ...process.env };
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
// Loaded once the ports are known to be free, so that a clash is named within a second.
const { startExampleStack } = await import('./example-stack.js');
const { allowPrivateAddresses } = await import('@edfs/subgraph-scrape-job');

// One Ctrl-C can arrive twice: from the terminal, and from pnpm passing it on to its child.
// Another signal after that forces the exit (nats-server.ts still removes NATS at exit).
const SAME_SIGNAL_MS = 500;
let stopRequestedAt: number | undefined;
let stack: ExampleStack | undefined;
const onSignal = (): void => {
  if (stopRequestedAt !== undefined) {
    if (Date.now() - stopRequestedAt < SAME_SIGNAL_MS) return;
    fail('stopped without waiting for the example stack to close');
  }
  stopRequestedAt = Date.now();
  // Closing is expected: only what goes wrong deserves a line next to "stopped.".
  if (env['LOG_LEVEL'] === undefined) logger.level = 'warn';
  if (stack) stop(stack);
};
// From the start: a Ctrl-C while the stack starts waits for it, then stops it. SIGHUP (the
// terminal closed) too: NATS, in a process group of its own, would not get it.
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);

function stop(running: ExampleStack): void {
  running.close().then(
    () => {
      console.log('stopped.');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'could not stop cleanly');
      process.exit(1);
    },
  );
}

try {
  stack = await startExampleStack({
    natsUrl,
    ports,
    env,
    logger,
    // NATS must outlive its clients: the terminal's Ctrl-C would otherwise stop it first.
    detachNats: true,
  });
} catch (error) {
  if (error instanceof NatsServerNotFoundError) fail(error.message);
  logger.fatal({ err: error }, 'the example stack did not start');
  process.exit(1);
}

if (stopRequestedAt !== undefined) stop(stack);
else {
  const url = stack.router.url;
  const scrapeNote = allowPrivateAddresses(env)
    ? ' (fetches private addresses too; SCRAPE_ALLOW_PRIVATE=0 refuses them)'
    : ' (refuses private addresses)';
  console.log(`
EDFS Router example stack is up.

  GraphQL (HTTP and WebSocket)  ${url}
  Health                        ${url.replace('/graphql', '/health')}
  Subgraphs                     message ${stack.subgraphs.message.url}
                                user ${stack.subgraphs.user.url}
                                scrape-job ${stack.subgraphs.scrapeJob.url}${scrapeNote}
  NATS                          ${stack.natsUrl}${stack.nats ? ` (monitoring ${stack.nats.monitorUrl})` : ''}

Subscribe with any graphql-transport-ws client, e.g.
  subscription { messageAdded(roomID: "123") { id text user { name } } }

then publish the key of what changed:
  nats pub 'room.123.messages' '{"__typename":"Message","id":"1"}'
  pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'    (no NATS CLI needed)

Ctrl-C stops everything.
`);
}
