import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: every target runs from there, as `pnpm` would run it. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A server under test, running as its own process. */
export interface ChildServer {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Output kept for error messages (the last lines of stdout and stderr). */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child this process started and has not seen exit: killed on any way out. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Kills `child` with this process, however this process ends (short of SIGKILL). */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** The same for a process known only by its pid (nats-server, started by stack/). */
export function killPidOnExit(pid: number): void {
  process.once('exit', () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
}

/**
 * Spawns `node <args>` from the repository root, with stdout and stderr piped, in
 * production mode (graphql-js and others skip development checks) unless `env` says otherwise.
 */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): ChildServer {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const lines: string[] = [];
  const keep = (line: string): void => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  createInterface({ input: child.stdout! }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  return {
    process: child,
    pid: child.pid!,
    tail: () => lines.join('\n'),
    stop: (graceMs = 5000) => stopChild(child, graceMs),
  };
}

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first stdout JSON line whose `msg` is `message`, e.g. its `url`. */
export function waitForLogLine(
  server: ChildServer,
  message: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`no "${message}" within ${timeoutMs} ms:\n${server.tail()}`)),
      timeoutMs,
    );
    const lines = createInterface({ input: server.process.stdout! });
    const onExit = (code: number | null): void =>
      fail(new Error(`exited with ${code} before "${message}":\n${server.tail()}`));
    const fail = (error: Error): void => {
      clearTimeout(timer);
      lines.close();
      server.process.off('exit', onExit);
      reject(error);
    };
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry['msg'] !== message) return;
      clearTimeout(timer);
      lines.close();
      server.process.off('exit', onExit);
      resolve(entry);
    });
    server.process.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHttpOk(
  server: ChildServer,
  url: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.process.exitCode !== null) {
      throw new Error(`exited with ${server.process.exitCode}:\n${server.tail()}`);
    }
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms:\n${server.tail()}`);
}

/** A TCP port free on 127.0.0.1 now, for servers that cannot report the port they bound. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
