import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
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
import { listeningUrl, runRouter, spawnRouter, stackEnv } from './support/cli.js';
import { waitFor } from './support/wait.js';

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
      const composed = await runRouter(['compose', '--out', supergraph], stackEnv(stack));
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

    it('keeps a SIGHUP sent while it starts, and reloads once it is up', async () => {
      const file = join(dir, 'hup.graphql');
      const composed = await runRouter(['compose', '--out', file], stackEnv(stack));
      expect(composed.code).toBe(0);
      const sdl = readFileSync(file, 'utf8');
      // A registry that holds the first fetch: the router is starting meanwhile.
      const held: ServerResponse[] = [];
      let fetches = 0;
      const registry = createServer((_, res) => {
        if (++fetches === 1) held.push(res);
        else res.end(sdl);
      });
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      const { port } = registry.address() as AddressInfo;
      const config = writeConfig({
        supergraph: `http://127.0.0.1:${port}/supergraph.graphql`,
        reload: { pollIntervalMs: 600_000 },
      });
      const router = spawnRouter(['--config', config], { PORT: '0', NATS_URL: stack.natsUrl });
      try {
        const messages: string[] = [];
        createInterface({ input: router.stdout! }).on('line', (line) => {
          messages.push((JSON.parse(line) as { msg: string }).msg);
        });
        const listening = listeningUrl(router);
        listening.catch(() => undefined); // awaited below; a failed start fails the wait first
        // A CLI router takes seconds to load on a busy machine.
        await waitFor('the first fetch', () => held.length === 1, 25_000);
        router.kill('SIGHUP');
        held[0]!.end(sdl);
        const url = await listening;
        await waitFor('the reload', () => messages.includes('SIGHUP: supergraph unchanged'));
        expect(fetches).toBe(2);
        expect((await post(url, '{ user(id: "1") { name } }')).body).toEqual({
          data: { user: { name: 'Alice' } },
        });
      } finally {
        router.kill('SIGTERM');
        registry.closeAllConnections();
        registry.close();
      }
      expect(await new Promise((resolve) => router.once('exit', resolve))).toBe(0);
    }, 60_000);

    it('serves subscriptions from the supergraph alone: no events.schema, no events SDL on disk', async () => {
      // Composed from copies of the SDLs, which are gone before the router starts.
      const sdls = mkdtempSync(join(tmpdir(), 'edfs-cli-sdl-'));
      for (const name of ['events', 'message', 'user', 'scrape-job'])
        copyFileSync(join(schemas, `${name}.graphql`), join(sdls, `${name}.graphql`));
      writeFileSync(
        join(sdls, 'router.yaml'),
        stringify({
          events: { schema: 'events.graphql' },
          subgraphs: {
            message: { schema: 'message.graphql', url: stack.subgraphs.message.url },
            user: { schema: 'user.graphql', url: stack.subgraphs.user.url },
            'scrape-job': { schema: 'scrape-job.graphql', url: stack.subgraphs.scrapeJob.url },
          },
        }),
      );
      const supergraph = join(dir, 'carried.graphql');
      const composed = await runRouter([
        'compose',
        '--config',
        join(sdls, 'router.yaml'),
        '--out',
        supergraph,
      ]);
      rmSync(sdls, { recursive: true, force: true });
      expect(composed.code).toBe(0);
      expect(readFileSync(supergraph, 'utf8')).toContain(
        '@link(url: "https://edfs.dev/events/v1.0", import: ["@eventsSubscribe", "@eventsFilter", "@eventsPublish"])',
      );

      // Nothing about the events graph but the streams its fields read.
      const config = writeConfig({ nats: { streams: stack.routerConfig.nats.streams } });
      const router = spawnRouter(['--config', config, '--supergraph', supergraph], {
        PORT: '0',
        NATS_URL: stack.natsUrl,
      });
      try {
        const url = await listeningUrl(router);
        const client = wsClient(url);
        const sub = subscribe(
          client,
          'subscription { messageAdded(roomID: "carried") { text user { name } } }',
        );
        await stack.subscribedOn('room.carried.messages');
        stack.publish('room.carried.messages', { __typename: 'Message', id: '1' });
        expect(await sub.next()).toEqual({
          data: { messageAdded: { text: 'Hello, Bob!', user: { name: 'Alice' } } },
        });
        // `stream: "chat"` came through composition too: the result has a cursor.
        expect(sub.cursor).toEqual(expect.any(String));
        await client.dispose();
      } finally {
        router.kill('SIGTERM');
      }
      expect(await new Promise((resolve) => router.once('exit', resolve))).toBe(0);
    });
  });

  it('refuses a supergraph whose events graph lacks our @link, naming the fix', async () => {
    // An events graph as written before the spec had a URL: composition drops its bindings.
    writeFileSync(
      join(dir, 'old-events.graphql'),
      'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])\n' +
        'directive @eventsSubscribe(topic: String!) on FIELD_DEFINITION\n' +
        'type Subscription { messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "r.{{ args.roomID }}") }\n' +
        'type Message @key(fields: "id", resolvable: false) { id: ID! }\n',
    );
    const supergraph = join(dir, 'old.graphql');
    const composed = await runRouter([
      'compose',
      '--config',
      writeConfig({ events: { schema: 'old-events.graphql' }, subgraphs }),
      '--out',
      supergraph,
    ]);
    expect(composed.code).toBe(0);

    const { code, stderr } = await runRouter([
      '--config',
      writeConfig({}),
      '--supergraph',
      supergraph,
    ]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'edfs-router: [events] the supergraph does not carry the event bindings: its events graph ' +
        'was composed without @link(url: "https://edfs.dev/events/v1.0"). Add `extend schema ' +
        '@link(url: "https://edfs.dev/events/v1.0", import: ["@eventsSubscribe"]) ' +
        '@composeDirective(name: "@eventsSubscribe")` to the events graph SDL (with ' +
        '"@composeDirective" in its federation @link\'s import) and compose again, or name that ' +
        'SDL in events.schema\n',
    );
  });
});
