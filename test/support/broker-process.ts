/**
 * What the Redis and RabbitMQ test servers share: a child process that is killed when our
 * process exits without stopping it, a throwaway folder, and a free port.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './routers.js';

export { closedPort as freePort };

/** A folder of its own under the OS temp folder, e.g. `edfs-redis-XXXXXX`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `edfs-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export interface BrokerProcess {
  readonly child: ChildProcess;
  /** Output so far (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then waits for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `command` in a process group of its own (a broker's start script forks its VM), so
 * that the signals reach the whole group; it is killed (SIGKILL) at the latest when our
 * process exits.
 */
export function spawnBroker(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): BrokerProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    detached: true,
  });
  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // the group is gone already
    }
  };
  let output = '';
  const take = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  child.on('error', (error) => take(Buffer.from(`\n${command}: ${error.message}\n`)));
  const kill = (): void => signal('SIGKILL');
  process.once('exit', kill);
  let stopping: Promise<void> | undefined;
  return {
    child,
    output: () => output,
    stop(graceMs = 15_000) {
      return (stopping ??= (async () => {
        process.off('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
          signal('SIGKILL'); // whatever it left running in its group
          return;
        }
        const exited = new Promise((resolve) => child.once('exit', resolve));
        signal('SIGTERM');
        // A grace for a clean stop, not a wait for an event: past it the broker is killed.
        const timer = setTimeout(() => signal('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        signal('SIGKILL');
      })());
    },
  };
}

/**
 * Starts a broker on ports `start` picks, and again on new ones when another process took
 * one of them between the pick and the broker's bind (a free port is free only when it is
 * picked: parallel tests' outgoing connections take ports from the same range). epmd says
 * so in its own words: it exits, saying there is an epmd on the port already.
 */
export async function onFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (
        attempt === PORT_ATTEMPTS ||
        !/address already in use|eaddrinuse|there is already a epmd running/i.test(String(error))
      ) {
        throw error;
      }
    }
  }
}

const PORT_ATTEMPTS = 5;

/**
 * Retries `attempt` until it resolves, failing after `timeoutMs` with the last error and the
 * broker's output; a broker that exits fails it at once.
 */
export async function untilReady<T>(
  what: string,
  broker: BrokerProcess,
  attempt: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (broker.child.exitCode !== null || broker.child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${broker.output().slice(-2000)}`);
    }
    try {
      return await attempt();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} was not ready in ${timeoutMs} ms (${String(last)}):\n${broker.output().slice(-2000)}`,
        { cause: last },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // a retry interval, not a wait for an event
  }
}
