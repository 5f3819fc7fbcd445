import { freePort, spawnNode, waitForLogLine } from './child.js';
import { composeSupergraph } from './supergraph.js';
import type { RunningTarget, TargetContext } from './target.js';

/**
 * Apollo Gateway in Apollo Server (bench/apollo/gateway.ts), serving the supergraph that
 * `pnpm router compose` writes. Queries only: it serves no subscriptions here.
 */
export async function startApollo(context: TargetContext): Promise<RunningTarget> {
  const supergraph = await composeSupergraph(context);
  const port = await freePort();
  const server = spawnNode([
    '--import',
    'tsx',
    'bench/apollo/gateway.ts',
    supergraph,
    String(port),
  ]);
  try {
    const { url } = await waitForLogLine(server, 'apollo listening', 60_000);
    return {
      name: 'apollo',
      url: String(url),
      httpUrl: String(url),
      pid: server.pid,
      subjectTemplate: '',
      joins: true,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw new Error(`apollo gateway did not start: ${(error as Error).message}`, { cause: error });
  }
}
