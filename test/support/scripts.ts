import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A workspace script running in a process group of its own, as a terminal would run it. */
export interface RunningScript {
  readonly child: ChildProcess;
  /** Everything it wrote so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout matches `pattern`; rejects if the script exits first. */
  printed(pattern: RegExp): Promise<void>;
  /** Signals the whole process group, as Ctrl-C in a terminal does with SIGINT. */
  signalGroup(signal: NodeJS.Signals): void;
  /** How it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Once exited: how, with stderr, to compare in one assertion that shows all three. */
  readonly ended: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
}

/**
 * Runs `command` from the repository root with `env` over this process's environment
 * (`undefined` removes a variable). Kill what is still running with `signalGroup('SIGKILL')`.
 */
export function runScript(
  command: readonly string[],
  env: Record<string, string | undefined> = {},
): RunningScript {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete fullEnv[name];
    else fullEnv[name] = value;
  }
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: fullEnv,
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let end: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve((end = { code, signal })));
    },
  );
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get ended() {
      if (!end) throw new Error('the script has not exited yet');
      return { ...end, stderr };
    },
    printed(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stdout)) return;
          child.stdout!.off('data', check);
          resolve();
        };
        child.stdout!.on('data', check);
        check();
        void exited.then(() =>
          reject(new Error(`exited before printing ${pattern}:\n${stdout}\n${stderr}`)),
        );
      });
    },
    signalGroup(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, signal);
      } catch (error) {
        // The group is already gone: nothing left to signal.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    exited,
  };
}
