import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A value source a test pulls from: results of a subscription, in order. */
export interface Pull<T> {
  /** The next value; rejects if the source failed, or completed before giving one. */
  next(): Promise<T>;
  /** Resolves when the source completes (after every value was pulled). */
  readonly completed: Promise<void>;
}

/**
 * Turns push callbacks (an Observable's, a client's sink) into `Pull`: values wait in
 * order until the test asks for them.
 */
export function pushToPull<T>(): Pull<T> & {
  push(value: T): void;
  fail(error: unknown): void;
  complete(): void;
} {
  const values: T[] = [];
  const waiting: { resolve(value: T): void; reject(error: unknown): void }[] = [];
  let end: { error: unknown } | undefined;
  let completed!: () => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    completed = resolve;
    failed = reject;
  });
  done.catch(() => undefined); // observed through next() or `completed`
  const finish = (error: unknown): void => {
    end = { error };
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  return {
    push(value) {
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(value);
      else values.push(value);
    },
    fail(error) {
      finish(error);
      failed(error);
    },
    complete() {
      finish(new Error('completed'));
      completed();
    },
    next() {
      if (values.length) return Promise.resolve(values.shift()!);
      if (end) return Promise.reject(end.error);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    completed: done,
  };
}

/** A process whose stdout a test reads as it arrives: `curl -N`, a README snippet. */
export interface Watched {
  readonly child: ChildProcess;
  /** Everything the process has written to stdout so far. */
  readonly output: string;
  /** Resolves with the output once it satisfies `check`; rejects if the process exits first. */
  until(what: string, check: (output: string) => boolean): Promise<string>;
  /** Resolves when the process has exited, with its exit code. */
  readonly exited: Promise<number | null>;
  /** Everything the process has written to stderr so far. */
  readonly stderr: string;
  kill(): Promise<void>;
}

/** `curl` running against the router. */
export type Curl = Watched;

export function spawnCurl(args: string[]): Curl {
  return spawnWatched('curl', ['--silent', '--show-error', ...args]);
}

/** Runs `command`; with `detached`, `kill()` ends its whole process group. */
export function spawnWatched(command: string, args: string[], options: SpawnOptions = {}): Watched {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  const checks = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const check of checks) check();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', resolve);
    // Not started (e.g. not on PATH): there is no exit code, and the reason goes with stderr.
    child.once('error', (error) => {
      stderr += `${error.message}\n`;
      resolve(null);
    });
  });
  return {
    child,
    get output() {
      return output;
    },
    get stderr() {
      return stderr;
    },
    until(what, check) {
      return new Promise((resolve, reject) => {
        const test = (): void => {
          if (!check(output)) return;
          checks.delete(test);
          resolve(output);
        };
        checks.add(test);
        test();
        void exited.then((code) => {
          if (!checks.has(test)) return;
          checks.delete(test);
          reject(new Error(`${command} exited (${code}) before ${what}: ${stderr}\n${output}`));
        });
      });
    },
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        // A detached child leads its own process group: end what a shell started as well.
        if (options.detached && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      }
      await exited;
    },
  };
}
