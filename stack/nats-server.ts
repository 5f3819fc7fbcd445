import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * JetStream's file store, kept when the server stops, so a server started on it again
   * has the same streams and messages. @default a temporary folder, removed on stop
   */
  storeDir?: string;
  /**
   * Run it in a process group of its own, so that a Ctrl-C in the terminal reaches only our
   * process, which can then stop NATS last, after its clients have closed. It is still
   * stopped when our process exits, unless that process is killed with SIGKILL.
   * @default false: it shares our process group and gets the terminal's signals too
   */
  detached?: boolean;
  /**
   * A nats-server config file's text (`authorization`, `tls`…), for a server set up as a
   * deployment's is; the options above still apply over it. @default none
   */
  config?: string;
}

export interface NatsServer {
  /** e.g. `nats://127.0.0.1:4222` */
  readonly url: string;
  /** e.g. `http://127.0.0.1:8222` */
  readonly monitorUrl: string;
  /**
   * Subscriptions the server holds now on exactly this subject, across all clients: core
   * subscriptions plus JetStream consumers that filter on it.
   */
  subscriptionsOn(subject: string): Promise<number>;
  /** Its process id: a test can freeze it (`SIGSTOP`) to play a server that stops answering. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** The part of the server's `/jsz` monitoring answer that names consumers' subjects. */
interface JetStreamDetails {
  account_details?: {
    stream_detail?: { consumer_detail?: { config?: { filter_subject?: string } }[] }[];
  }[];
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

/**
 * Spawns `nats-server` with JetStream in a temporary store and waits until it listens.
 * The server and its store go when `stop` is called, or at the latest when our process exits.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const host = options.host ?? '127.0.0.1';
  // nats-server reads 0 as "the default port" (4222) and, for monitoring, as "off".
  const port = (value = -1): string => String(value === 0 ? -1 : value);
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'edfs-nats-'));
  const args = ['-a', host, '-p', port(options.port), '-m', port(options.monitorPort)];
  if (options.config !== undefined) {
    const file = join(storeDir, 'nats.conf');
    writeFileSync(file, options.config);
    args.push('-c', file);
  }
  const child = spawn('nats-server', [...args, '-js', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  const cleanUp = (): void => {
    if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true, maxRetries: 3 });
  };
  const forget = atExit(() => {
    child.kill('SIGKILL');
    cleanUp();
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopProcess(child).then(() => {
      cleanUp();
      forget();
    }));
  try {
    const { clientPort, monitorPort } = await readyPorts(child);
    const monitorUrl = `http://${host}:${monitorPort}`;
    return {
      url: `nats://${host}:${clientPort}`,
      monitorUrl,
      pid: child.pid!,
      async subscriptionsOn(subject) {
        const [subs, streams] = await Promise.all([
          fetch(`${monitorUrl}/subsz?subs=1&test=${encodeURIComponent(subject)}`),
          fetch(`${monitorUrl}/jsz?accounts=true&streams=true&consumers=true&config=true`),
        ]);
        const core = (await subs.json()) as { subscriptions_list?: { subject: string }[] };
        const js = (await streams.json()) as JetStreamDetails;
        const consumers = (js.account_details ?? [])
          .flatMap((account) => account.stream_detail ?? [])
          .flatMap((stream) => stream.consumer_detail ?? [])
          .filter((consumer) => consumer.config?.filter_subject === subject);
        return (
          (core.subscriptions_list ?? []).filter((s) => s.subject === subject).length +
          consumers.length
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// An exit that skips `stop` (process.exit, an uncaught error, a forced Ctrl-C) must not leave
// a server or its store behind. Only synchronous work runs at exit, hence SIGKILL.
const atExitTasks = new Set<() => void>();
function atExit(task: () => void): () => void {
  if (atExitTasks.size === 0) process.once('exit', runAtExitTasks);
  atExitTasks.add(task);
  return () => {
    atExitTasks.delete(task);
    if (atExitTasks.size === 0) process.off('exit', runAtExitTasks);
  };
}
function runAtExitTasks(): void {
  for (const task of atExitTasks) task();
}

// Far above its usual 50 ms, but a start-up that hangs must end in an error, not in silence.
const READY_TIMEOUT_MS = 10_000;

function readyPorts(child: ChildProcess): Promise<{ clientPort: number; monitorPort: number }> {
  return new Promise((resolve, reject) => {
    let clientPort = 0;
    let monitorPort = 0;
    const log: string[] = [];
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      const last = log.slice(-5).join('\n');
      fail(new Error(`nats-server did not say it was ready in ${READY_TIMEOUT_MS} ms:\n${last}`));
    }, READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      log.push(line);
      clientPort ||= Number(/client connections on .*:(\d+)$/.exec(line)?.[1] ?? 0);
      monitorPort ||= Number(/http monitor on .*:(\d+)$/.exec(line)?.[1] ?? 0);
      if (clientPort && monitorPort && line.includes('Server is ready')) {
        clearTimeout(timer);
        lines.removeAllListeners('line');
        child.stderr!.resume();
        resolve({ clientPort, monitorPort });
      }
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'ENOENT' ? new NatsServerNotFoundError({ cause: error }) : error),
    );
    child.once('exit', (code, signal) => {
      const how = signal ? `on ${signal}` : `with code ${code}`;
      fail(new Error(`nats-server exited ${how}:\n${log.slice(-5).join('\n')}`));
    });
  });
}

/** Resolves once `child` has exited (the store is only removed after that). */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
