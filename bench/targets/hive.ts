import { fileURLToPath } from 'node:url';
import { freePort, spawnNode, waitForHttpOk } from './child.js';
import { composeSupergraph } from './supergraph.js';
import type { RunningTarget, TargetContext } from './target.js';

const gatewayConfig = fileURLToPath(new URL('../hive/gateway.config.ts', import.meta.url));
const hiveBin = fileURLToPath(new URL('bin.js', import.meta.resolve('@graphql-hive/gateway')));

/**
 * The peer: Hive Gateway's own CLI (`hive-gateway supergraph`) serving the supergraph that
 * `pnpm router compose` writes, with bench/hive/gateway.config.ts adding the
 * event-driven `messageAdded` over the same NATS server.
 */
export async function startHive(context: TargetContext): Promise<RunningTarget> {
  const supergraph = await composeSupergraph(context);
  const port = await freePort();
  const server = spawnNode(
    [
      hiveBin,
      'supergraph',
      supergraph,
      '--config-path',
      gatewayConfig,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { NATS_URL: context.backend.nats.url },
  );
  try {
    await waitForHttpOk(server, `http://127.0.0.1:${port}/readiness`, 60_000);
    return {
      name: 'hive',
      url: `ws://127.0.0.1:${port}/graphql`,
      httpUrl: `http://127.0.0.1:${port}/graphql`,
      pid: server.pid,
      subjectTemplate: 'hive:room.{room}.messages',
      joins: true,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw new Error(`hive-gateway did not start: ${(error as Error).message}`, { cause: error });
  }
}
