import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { listeningUrl, runRouter, spawnRouter } from './support/cli.js';

const root = join(import.meta.dirname, '..');
const schemas = join(root, 'schemas');

describe('the router CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edfs-cli-'));
    for (const name of ['events', 'message', 'user'])
      copyFileSync(join(schemas, `${name}.graphql`), join(dir, `${name}.graphql`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeConfig = (config: unknown): string => {
    const file = join(dir, `router-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(config));
    return file;
  };
  const subgraphs = {
    message: { schema: 'message.graphql', url: 'http://127.0.0.1:1/graphql' },
    user: { schema: 'user.graphql', url: 'http://127.0.0.1:2/graphql' },
  };

  it('exits non-zero naming the subgraph and the reason when composition fails', async () => {
    writeFileSync(
      join(dir, 'clash.graphql'),
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])\n' +
        'type Message @key(fields: "id") { id: ID! text: Int }\n',
    );
    const config = writeConfig({
      events: { schema: 'events.graphql' },
      subgraphs: {
        ...subgraphs,
        clash: { schema: 'clash.graphql', url: 'http://127.0.0.1:3/graphql' },
      },
    });
    const { code, stderr } = await runRouter(['--config', config]);
    expect(code).toBe(1);
    expect(stderr).toContain('composition failed');
    expect(stderr).toMatch(/"Message\.text".*subgraph "clash"/s);
  });

  it('exits non-zero naming the file and the setting when the config is invalid', async () => {
    const config = writeConfig({
      events: { schema: 'events.graphql' },
      listen: { port: 'four thousand' },
      subgraphs,
    });
    const { code, stderr } = await runRouter(['--config', config]);
    expect(code).toBe(1);
    expect(stderr).toContain(config);
    expect(stderr).toContain('listen.port');
  });

  it('exits non-zero naming the subgraph whose SDL is missing', async () => {
    const config = writeConfig({
      events: { schema: 'events.graphql' },
      subgraphs: {
        ...subgraphs,
        ghost: { schema: 'ghost.graphql', url: 'http://127.0.0.1:3/graphql' },
      },
    });
    const { code, stderr } = await runRouter(['--config', config]);
    expect(code).toBe(1);
    expect(stderr).toContain('[ghost] cannot read');
  });

  it('names the file and the fix when a supergraph does not start with SDL', async () => {
    // The newcomer's command: pnpm writes its banner to stdout ahead of the SDL.
    const supergraph = join(dir, 'redirected.graphql');
    const out = openSync(supergraph, 'w');
    const pnpm = spawn('pnpm', ['router', 'compose'], {
      cwd: root,
      stdio: ['ignore', out, 'inherit'],
    });
    closeSync(out);
    expect(await new Promise((resolve) => pnpm.once('exit', resolve))).toBe(0);
    const banner = readFileSync(supergraph, 'utf8').split('\n')[1]!;
    expect(banner).toMatch(/^> edfs-router-workspace@ router /);

    const { code, stdout, stderr } = await runRouter(['--supergraph', supergraph]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `edfs-router: ${supergraph}: line 2 is not GraphQL SDL (${JSON.stringify(banner)}): ` +
        `write the file with \`pnpm router compose --out ${supergraph}\` ` +
        `(or \`pnpm -s router compose > ${supergraph}\`)\n`,
    );
  });

  describe('--supergraph', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack();
    });
    afterAll(async () => {
      await stack?.close();
    });

    it('serves a composed Federation 2 supergraph, subscriptions included', async () => {
      const supergraph = join(dir, 'supergraph.graphql');
      const composed = await runRouter(['compose', '--out', supergraph], {
        SUBGRAPH_MESSAGE_URL: stack.subgraphs.message.url,
        SUBGRAPH_USER_URL: stack.subgraphs.user.url,
        SUBGRAPH_SCRAPE_JOB_URL: stack.subgraphs.scrapeJob.url,
      });
      expect(composed.code).toBe(0);
      expect(composed.stdout).toBe('');
      expect(composed.stderr).toBe(
        `edfs-router: wrote the supergraph of 4 subgraphs to ${supergraph}\n`,
      );

      const router = spawnRouter(['--supergraph', supergraph], {
        PORT: '0',
        NATS_URL: stack.natsUrl,
      });
      try {
        const url = await listeningUrl(router);
        const query = await post(url, '{ message(id: "1") { text user { name } } }');
        expect(query.body).toEqual({
          data: { message: { text: 'Hello, Bob!', user: { name: 'Alice' } } },
        });

        const client = wsClient(url);
        const sub = subscribe(
          client,
          'subscription { messageAdded(roomID: "123") { text user { name } } }',
        );
        await stack.subscribedOn('room.123.messages');
        stack.publish('room.123.messages', { __typename: 'Message', id: '2' });
        expect(await sub.next()).toEqual({
          data: { messageAdded: { text: 'Hi Alice!', user: { name: 'Bob' } } },
        });
        await client.dispose();
      } finally {
        router.kill('SIGTERM');
      }
      expect(await new Promise((resolve) => router.once('exit', resolve))).toBe(0);
    });
  });
});
