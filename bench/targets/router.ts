import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { stringify } from 'yaml';
import { repoRoot, spawnNode, waitForLogLine } from './child.js';
import type { RunningTarget, TargetContext } from './target.js';

/**
 * The JetStream streams schemas/events.graphql reads, as router.yaml declares them but
 * keeping every message of the run (a cursor must not expire mid-cell). The router
 * creates them; the target deletes them when it stops.
 */
const streams = [
  { name: 'chat', subjects: ['room.*.messages'], maxAgeSeconds: 3600, maxMessagesPerSubject: -1 },
  { name: 'scrape_jobs', subjects: ['scrapeJob.*.state'], maxAgeSeconds: 3600 },
];

/**
 * router.yaml for the benchmark: the backend's NATS and subgraphs, and the example graph on
 * core NATS (as the relay and Hive read it, so the comparison is like for like) or, with
 * `durable`, on its JetStream streams.
 */
export function writeRouterConfig({ backend, workDir, durable }: TargetContext): string {
  const file = join(workDir, 'router.yaml');
  const schema = (name: string): string => join(repoRoot, 'schemas', `${name}.graphql`);
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    nats: durable ? { url: backend.nats.url, streams } : { url: backend.nats.url },
    events: { name: 'events', schema: schema(durable ? 'events' : 'events-core') },
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
  const profile = context.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${context.cpuProfileDir}`]
    : [];
  const server = spawnNode(
    [...profile, '--import', 'tsx', 'router/src/cli.ts', '--config', config],
    {
      LOG_LEVEL: 'info',
    },
  );
  // Later cells publish core events to the same subjects: no stream may keep storing them.
  const stop = async (): Promise<void> => {
    await server.stop();
    if (context.durable) await deleteStreams(context.backend.nats.url);
  };
  try {
    const { url } = await waitForLogLine(server, 'router listening', 60_000);
    return {
      name: 'router',
      url: String(url).replace(/^http/, 'ws'),
      httpUrl: String(url),
      pid: server.pid,
      subjectTemplate: 'room.{room}.messages',
      joins: true,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`router did not start: ${(error as Error).message}`, { cause: error });
  }
}

async function deleteStreams(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'bench-streams' });
  try {
    const jsm = await nc.jetstreamManager();
    for (const { name } of streams) {
      await jsm.streams.delete(name).catch((error: unknown) => {
        if (!/not found/i.test(String(error))) throw error;
      });
    }
  } finally {
    await nc.close();
  }
}
