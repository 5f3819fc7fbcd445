import { spawnNode, waitForLogLine } from './child.js';
import type { RunningTarget, TargetContext } from './target.js';

/** The ceiling: bench/relay.ts in its own process, same runtime as the router. */
export async function startRelay({ backend }: TargetContext): Promise<RunningTarget> {
  const server = spawnNode(['--import', 'tsx', 'bench/relay.ts'], {
    NATS_URL: backend.nats.url,
    PORT: '0',
  });
  try {
    const { url } = await waitForLogLine(server, 'relay listening', 30_000);
    return {
      name: 'relay',
      url: String(url),
      pid: server.pid,
      subjectTemplate: 'room.{room}.messages',
      joins: false,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw new Error(`relay did not start: ${(error as Error).message}`, { cause: error });
  }
}
