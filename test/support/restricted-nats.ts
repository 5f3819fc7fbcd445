import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RestrictedNats {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A nats-server on a free port where every client may publish anywhere (but to
 * `deniedPublish`, when given) but may not subscribe to `deniedSubject`: NATS then ends
 * such a subscription with a permissions violation, which is how a test sees the router
 * end a client's stream from its side.
 */
export async function startRestrictedNats(
  deniedSubject: string,
  deniedPublish?: string,
): Promise<RestrictedNats> {
  const dir = mkdtempSync(join(tmpdir(), 'edfs-nats-restricted-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(
    config,
    `authorization {
  users = [
    { user: anyone, password: "", permissions: { subscribe: { deny: [${JSON.stringify(deniedSubject)}] }${deniedPublish ? `, publish: { deny: [${JSON.stringify(deniedPublish)}] }` : ''} } }
  ]
}
no_auth_user: anyone
`,
  );
  const child = spawn('nats-server', ['-c', config, '-a', '127.0.0.1', '-p', '-1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let found = 0;
      const lines = createInterface({ input: child.stderr! });
      lines.on('line', (line) => {
        found ||= Number(/client connections on .*:(\d+)$/.exec(line)?.[1] ?? 0);
        if (found && line.includes('Server is ready')) {
          lines.removeAllListeners('line');
          child.stderr!.resume();
          resolve(found);
        }
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`nats-server exited with code ${code}`)));
    });
    return { url: `nats://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
