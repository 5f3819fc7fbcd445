import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../../router/src/cli.ts', import.meta.url));

/** Runs `edfs-router` (the router's CLI) with tsx, as `pnpm router` does. */
export function spawnRouter(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to its end: exit code and output. */
export async function runRouter(args: string[], env?: NodeJS.ProcessEnv) {
  const child = spawnRouter(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** Resolves with the URL the router logs once it listens. */
export function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'router listening' && entry.url) resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`router exited with ${code}: ${stderr}`)));
  });
}

/** The environment that points a CLI router at a test stack's NATS and subgraphs. */
export function stackEnv(stack: {
  natsUrl: string;
  subgraphs: Record<'message' | 'user' | 'scrapeJob', { url: string }>;
}): NodeJS.ProcessEnv {
  return {
    NATS_URL: stack.natsUrl,
    SUBGRAPH_MESSAGE_URL: stack.subgraphs.message.url,
    SUBGRAPH_USER_URL: stack.subgraphs.user.url,
    SUBGRAPH_SCRAPE_JOB_URL: stack.subgraphs.scrapeJob.url,
  };
}
