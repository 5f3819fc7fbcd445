import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface NatsServerOptions {
  /** Client port; 0 or -1 picks a free one. @default -1 */
  port?: number;
  /** HTTP monitoring port (`/varz`, `/subsz`); 0 or -1 picks a free one. @default -1 */
  monitorPort?: number;
  /** @default "127.0.0.1" */
  host?: string;
}

export interface NatsServer {
  /** e.g. `nats://127.0.0.1:4222` */
  readonly url: string;
  /** e.g. `http://127.0.0.1:8222` */
  readonly monitorUrl: string;
  /** Subscriptions the server holds now on exactly this subject, across all clients. */
  subscriptionsOn(subject: string): Promise<number>;
  stop(): Promise<void>;
}

export class NatsServerNotFoundError extends Error {
  override readonly name = 'NatsServerNotFoundError';
  constructor(options?: ErrorOptions) {
    super(
      'nats-server is not on PATH: install it (apt-get install nats-server, brew install nats-server) or set NATS_URL to a running server',
      options,
    );
  }
}

/** Spawns `nats-server` with JetStream in a temporary store and waits until it listens. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const host = options.host ?? '127.0.0.1';
  // nats-server reads 0 as "the default port" (4222) and, for monitoring, as "off".
  const port = (value = -1): string => String(value === 0 ? -1 : value);
  const storeDir = mkdtempSync(join(tmpdir(), 'edfs-nats-'));
  const child = spawn(
    'nats-server',
    ['-a', host, '-p', port(options.port), '-m', port(options.monitorPort), '-js', '-sd', storeDir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const cleanUp = (): void => rmSync(storeDir, { recursive: true, force: true });
  try {
    const { clientPort, monitorPort } = await readyPorts(child);
    const monitorUrl = `http://${host}:${monitorPort}`;
    return {
      url: `nats://${host}:${clientPort}`,
      monitorUrl,
      async subscriptionsOn(subject) {
        const response = await fetch(
          `${monitorUrl}/subsz?subs=1&test=${encodeURIComponent(subject)}`,
        );
        const body = (await response.json()) as { subscriptions_list?: { subject: string }[] };
        return (body.subscriptions_list ?? []).filter((s) => s.subject === subject).length;
      },
      async stop() {
        await stopProcess(child);
        cleanUp();
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    cleanUp();
    throw error;
  }
}

function readyPorts(child: ChildProcess): Promise<{ clientPort: number; monitorPort: number }> {
  return new Promise((resolve, reject) => {
    let clientPort = 0;
    let monitorPort = 0;
    const log: string[] = [];
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      log.push(line);
      clientPort ||= Number(/client connections on .*:(\d+)$/.exec(line)?.[1] ?? 0);
      monitorPort ||= Number(/http monitor on .*:(\d+)$/.exec(line)?.[1] ?? 0);
      if (clientPort && monitorPort && line.includes('Server is ready')) {
        lines.removeAllListeners('line');
        child.stderr!.resume();
        resolve({ clientPort, monitorPort });
      }
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new NatsServerNotFoundError({ cause: error }) : error),
    );
    child.once('exit', (code) =>
      reject(new Error(`nats-server exited with code ${code}:\n${log.slice(-5).join('\n')}`)),
    );
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
