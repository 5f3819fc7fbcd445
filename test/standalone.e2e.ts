/**
 * The example's parts each in a process of its own, as the README's roll on one machine
 * and docker-compose.yaml run them: each subgraph's `main.ts`, and two CLI routers on one
 * NATS server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { subscribe, wsClient } from './support/graphql.js';
import { listeningUrl, spawnRouter } from './support/cli.js';
import { waitFor } from './support/wait.js';

const root = join(import.meta.dirname, '..');

/** Spawns a subgraph's `main.ts` on a free port; resolves with its URL once it listens. */
function startSubgraph(
  name: string,
  natsUrl: string,
): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', `subgraphs/${name}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, PORT: '0', NATS_URL: natsUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'subgraph listening' && entry.url) resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`subgraph ${name} exited with ${code}`)));
  });
  return { child, url };
}

/** SIGTERM, then the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe('the parts on their own', () => {
  let nats: NatsServer;
  let publisher: NatsConnection;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    publisher = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await publisher?.close();
    await nats?.stop();
  });

  it('serve two routers on one NATS, which stop with status 0, as do the subgraphs', async () => {
    const subgraphs = ['message', 'user', 'scrape-job'].map((name) => {
      const started = startSubgraph(name, nats.url);
      children.push(started.child);
      return started;
    });
    const [message, user, scrapeJob] = await Promise.all(subgraphs.map((s) => s.url));
    const env = {
      PORT: '0',
      NATS_URL: nats.url,
      SUBGRAPH_MESSAGE_URL: message,
      SUBGRAPH_USER_URL: user,
      SUBGRAPH_SCRAPE_JOB_URL: scrapeJob,
    };
    const routers = [spawnRouter([], env), spawnRouter([], env)];
    children.push(...routers);
    const urls = await Promise.all(routers.map(listeningUrl));

    const clients = urls.map((url) => wsClient(url));
    const subscriptions = clients.map((client) =>
      subscribe(client, 'subscription { messageAdded(roomID: "own") { id text user { name } } }'),
    );
    // Each router subscribes on its own: two subscriptions on the subject.
    await waitFor(
      "both routers' subscriptions",
      async () => (await nats.subscriptionsOn('room.own.messages')) === 2,
    );
    publisher.publish('room.own.messages', JSON.stringify({ __typename: 'Message', id: '1' }));
    for (const subscription of subscriptions) {
      const { data } = await subscription.next();
      expect(data).toEqual({
        messageAdded: { id: '1', text: 'Hello, Bob!', user: { name: 'Alice' } },
      });
    }
    await Promise.all(clients.map((client) => client.dispose()));

    expect(await Promise.all(routers.map(stop))).toEqual([0, 0]);
    expect(await Promise.all(subgraphs.map((s) => stop(s.child)))).toEqual([0, 0, 0]);
  });
});
