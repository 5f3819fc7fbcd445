/**
 * The example stack's ports: their defaults, the environment variables that move them, and a
 * check that they are free, so that `pnpm start` can name a clash before it starts anything.
 */
import { createServer } from 'node:net';

export const STACK_PORTS = {
  router: { env: 'PORT', default: 4000, what: 'the router' },
  message: { env: 'SUBGRAPH_MESSAGE_PORT', default: 4001, what: 'the message subgraph' },
  user: { env: 'SUBGRAPH_USER_PORT', default: 4002, what: 'the user subgraph' },
  scrapeJob: { env: 'SUBGRAPH_SCRAPE_JOB_PORT', default: 4003, what: 'the scrape-job subgraph' },
  nats: { env: 'NATS_PORT', default: 4222, what: 'NATS' },
  natsMonitor: { env: 'NATS_MONITOR_PORT', default: 8222, what: 'NATS monitoring' },
} as const;

export type StackPort = keyof typeof STACK_PORTS;
export type StackPorts = Record<StackPort, number>;

/** An environment variable that should hold a port number does not. */
export class StackPortError extends Error {
  override readonly name = 'StackPortError';
  constructor(
    readonly env: string,
    readonly value: string,
  ) {
    super(`${env} must be a port number from 0 to 65535 (0 picks a free one), not "${value}"`);
  }
}

/** Each port from its environment variable, or its default. @throws StackPortError */
export function readStackPorts(env: NodeJS.ProcessEnv): StackPorts {
  const read = (port: StackPort): number => {
    const setting = STACK_PORTS[port];
    const value = env[setting.env];
    if (value === undefined || value === '') return setting.default;
    if (/^\d{1,5}$/.test(value) && Number(value) <= 65535) return Number(value);
    throw new StackPortError(setting.env, value);
  };
  return {
    router: read('router'),
    message: read('message'),
    user: read('user'),
    scrapeJob: read('scrapeJob'),
    nats: read('nats'),
    natsMonitor: read('natsMonitor'),
  };
}

/**
 * What stands in the way of listening on each of `ports` (0 is always free), one line per
 * port: taken by another process, asked for twice, or refused by the system. Empty if none.
 */
export async function stackPortProblems(
  ports: Partial<StackPorts>,
  hosts: Partial<Record<StackPort, string>> = {},
): Promise<string[]> {
  const wanted = (Object.entries(ports) as [StackPort, number][]).filter(([, n]) => n !== 0);
  const problems = await Promise.all(
    wanted.map(async ([port, number], index) => {
      const { env, what } = STACK_PORTS[port];
      const first = wanted.findIndex(([, other]) => other === number);
      if (first < index) {
        const other = STACK_PORTS[wanted[first]![0]];
        return `port ${number} is asked for by both ${other.env} (${other.what}) and ${env} (${what}): move one of them`;
      }
      const host = hosts[port] ?? '127.0.0.1';
      const error = await listenError(host, number);
      if (!error) return undefined;
      const move = `set ${env} to another port (0 picks a free one)`;
      if (error.code === 'EADDRINUSE') {
        return `port ${number} (${what}) is taken on ${host}: stop what uses it, or ${move}`;
      }
      if (error.code === 'EACCES') {
        return `port ${number} (${what}) needs privileges on ${host}: ${move}`;
      }
      return `cannot listen on ${host}:${number} (${what}): ${error.message}`;
    }),
  );
  return problems.filter((problem) => problem !== undefined);
}

/** Listens on `host:port` and closes again at once; resolves with the error if it cannot. */
function listenError(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}
