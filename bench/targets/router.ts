import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot, spawnNode, waitForLogLine } from './child.js';
import type { RunningTarget, TargetContext } from './target.js';

/**
 * router.yaml for the benchmark: the example graph on core NATS (as the relay and Hive
 * read it, so the comparison is like for like), the backend's NATS and subgraphs.
 */
export function writeRouterConfig({ backend, workDir }: TargetContext): string {
  const file = join(workDir, 'router.yaml');
  const schema = (name: string): string => join(repoRoot, 'schemas', `${name}.graphql`);
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    nats: { url: backend.nats.url },
    events: { name: 'events', schema: schema('events-core') },
    subgraphs: Object.fromEntries(
      Object.entries(backend.subgraphUrls).map(([name, url]) => [
        name,
        { schema: schema(name), url },
      ]),
    ),
  };
  writeFileSync(file, stringify(config));
  return file;
}

/** Our router, started from its CLI as `pnpm router` would: `node --import tsx cli.ts`. */
export async function startRouter(context: TargetContext): Promise<RunningTarget> {
  const config = writeRouterConfig(context);
  const server = spawnNode(['--import', 'tsx', 'router/src/cli.ts', '--config', config], {
    LOG_LEVEL: 'info',
  });
  try {
    const { url } = await waitForLogLine(server, 'router listening', 60_000);
    return {
      name: 'router',
      url: String(url).replace(/^http/, 'ws'),
      pid: server.pid,
      subjectTemplate: 'room.{room}.messages',
      joins: true,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw new Error(`router did not start: ${(error as Error).message}`, { cause: error });
  }
}
