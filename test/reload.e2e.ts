import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Client, FormattedExecutionResult } from 'graphql-ws';
import { pino } from 'pino';
import { composeSupergraph, createRouter, type Router, type RouterConfig } from '@edfs/router';
import { coreNats, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, wsClient } from './support/graphql.js';
import { listeningUrl, spawnRouter, stackEnv } from './support/cli.js';
import { waitFor } from './support/wait.js';

/**
 * Still valid without `User.email`: it survives the reload. Only the event's own key, so
 * every event published (with ids the message subgraph does not know) resolves.
 */
const TEXTS = /* GraphQL */ `
  subscription ($roomID: ID!) {
    messageAdded(roomID: $roomID) {
      __typename
      id
    }
  }
`;
/** Selects `User.email`, which the second supergraph removes. */
const EMAILS = /* GraphQL */ `
  subscription ($roomID: ID!) {
    messageAdded(roomID: $roomID) {
      id
      user {
        email
      }
    }
  }
`;
const EMAIL_QUERY = '{ user(id: "1") { name email } }';

/** A subscription's every message, and whether it completed. */
function record(client: Client, query: string, variables: Record<string, unknown>) {
  const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
  let completed = false;
  let failed: unknown;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (result) => void results.push(result),
      error: (error) => void (failed = error),
      complete: () => void (completed = true),
    },
  );
  return {
    results,
    dispose,
    completed: () => completed,
    failed: () => failed,
    /** Ids of the data results, in order. */
    ids: () =>
      results.flatMap((r) => (r.data ? [(r.data['messageAdded'] as { id: string }).id] : [])),
  };
}

/** Composes the stack's subgraphs; `withoutEmail` drops `User.email` from the user subgraph. */
function compose(config: RouterConfig, dir: string, withoutEmail: boolean): string {
  const sources = [
    { name: config.events.name, schema: config.events.schema! },
    ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({ name, ...subgraph })),
  ];
  const user = sources.find((s) => s.name === 'user')!;
  // This test is about reloads, not scopes: email is open to anyone here.
  const sdl = readFileSync(user.schema, 'utf8').replace(
    ' @requiresScopes(scopes: [["users:email"]])',
    '',
  );
  // The field, its description and its directives.
  const emailField = /\n  "[^"\n]*"\n  email: String![^\n]*\n|\n  email: String![^\n]*\n/;
  expect(sdl).toMatch(emailField);
  const trimmed = join(dir, withoutEmail ? 'user-without-email.graphql' : 'user-open.graphql');
  writeFileSync(trimmed, withoutEmail ? sdl.replace(emailField, '\n') : sdl);
  return composeSupergraph(sources.map((s) => (s === user ? { ...s, schema: trimmed } : s)));
}

/** Replaces a file whole, as an editor or a deploy script does. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

describe('hot reload of the supergraph', () => {
  let stack: TestStack;
  let dir: string;
  let full: string;
  let withoutEmail: string;

  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    dir = mkdtempSync(join(tmpdir(), 'edfs-reload-'));
    full = compose(stack.routerConfig, dir, false);
    withoutEmail = compose(stack.routerConfig, dir, true);
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('a watched supergraph file', () => {
    let router: Router;
    let client: Client;
    let file: string;

    beforeAll(async () => {
      file = join(dir, 'watched.graphql');
      writeFileSync(file, full);
      router = await startRouterWith(stack, (config) => {
        config.supergraph = file;
      });
      client = wsClient(router.url);
    });
    afterAll(async () => {
      await client?.dispose();
      await router?.close();
    });

    it('serves the new schema to new operations, keeps a still-valid subscription without a gap, and completes the other with SCHEMA_CHANGED', async () => {
      expect(router.supergraphVersion).toBe(1);
      expect((await post(router.url, EMAIL_QUERY)).body).toEqual({
        data: { user: { name: 'Alice', email: 'alice@wonderland.com' } },
      });
      const texts = record(client, TEXTS, { roomID: 'r1' });
      const emails = record(client, EMAILS, { roomID: 'r1' });
      await waitFor('2 subscriptions', () => router.subscriptions === 2);
      await stack.subscribedOn('room.r1.messages');
      stack.publish('room.r1.messages', { __typename: 'Message', id: '1' });
      await waitFor('event 1', () => texts.ids().length === 1 && emails.ids().length === 1);

      // Events published while the file changes and the router reloads.
      replaceFile(file, withoutEmail);
      let published = 1;
      while (router.supergraphVersion === 1) {
        if (published > 1000) throw new Error('the file change was not picked up in 5 s');
        stack.publish('room.r1.messages', { __typename: 'Message', id: String(++published) });
        await new Promise((resolve) => setTimeout(resolve, 5)); // a publishing pace, not a wait
      }
      for (let i = 0; i < 3; i++) {
        stack.publish('room.r1.messages', { __typename: 'Message', id: String(++published) });
      }
      expect(router.supergraphVersion).toBe(2);

      const all = Array.from({ length: published }, (_, i) => String(i + 1));
      await waitFor('every event on the kept subscription', () => texts.ids().length >= published);
      expect(texts.ids()).toEqual(all);
      expect(texts.completed()).toBe(false);
      expect(texts.results.filter((r) => r.errors)).toEqual([]);

      await waitFor('the other subscription completed', () => emails.completed());
      // Its last result says why it ends (those before it: events for messages the message
      // subgraph does not know, as any unknown id gets).
      const codes = emails.results.map((r) => r.errors?.[0]?.extensions?.['code']);
      expect(codes.filter((code) => code === 'SCHEMA_CHANGED')).toHaveLength(1);
      expect(emails.results.at(-1)).toEqual({
        errors: [{ message: expect.any(String), extensions: { code: 'SCHEMA_CHANGED' } }],
      });
      expect(emails.failed()).toBeUndefined();
      // Only the kept one is open now, on the same subject.
      expect(router.subscriptions).toBe(1);
      expect(router.subjects).toBe(1);

      // New operations are validated against the new supergraph.
      const refused = await post(router.url, EMAIL_QUERY);
      expect(refused.body.errors?.[0]?.message).toMatch(/email/);
      expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
      // A subscription opened now cannot select the removed field.
      const late = record(client, EMAILS, { roomID: 'r1' });
      await waitFor('the late subscription answered', () => late.completed() || !!late.failed());
      expect(JSON.stringify(late.failed() ?? late.results)).toMatch(
        /Cannot query field \\"email\\"/,
      );
      expect(router.subscriptions).toBe(1);

      // The field comes back with the next supergraph: a query on it works again.
      replaceFile(file, full);
      await waitFor('version 3', () => router.supergraphVersion === 3);
      expect((await post(router.url, EMAIL_QUERY)).body).toEqual({
        data: { user: { name: 'Alice', email: 'alice@wonderland.com' } },
      });
      stack.publish('room.r1.messages', { __typename: 'Message', id: String(++published) });
      await waitFor('the event after the second reload', () => texts.ids().length === published);
      expect(texts.ids()).toEqual([...all, String(published)]);
      texts.dispose();
      await waitFor('no subscriptions', () => router.subscriptions === 0 && router.groups === 0);
    });

    it('refuses an invalid supergraph: version unchanged, queries still served', async () => {
      const version = router.supergraphVersion;
      const reloads = async (outcome: string): Promise<number> => {
        const text = await (await fetch(router.url.replace('/graphql', '/metrics'))).text();
        const line = new RegExp(
          `^edfs_supergraph_reloads_total\\{outcome="${outcome}"\\} (\\d+)$`,
          'm',
        );
        return Number(line.exec(text)?.[1]);
      };
      const [refusedBefore, reloadedBefore] = [await reloads('refused'), await reloads('reloaded')];
      const report = await (async () => {
        replaceFile(file, 'this is not a supergraph');
        // The watch reloads (and refuses) on its own; reload() takes its turn after it.
        return router.reload();
      })();
      expect(report.reloaded).toBe(false);
      expect(report.error).toBeTypeOf('string');
      expect(router.supergraphVersion).toBe(version);
      // Counted for alerts (the watch and reload() may each have read it).
      expect(await reloads('refused')).toBeGreaterThan(refusedBefore);
      expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
      // A valid one after it is taken (any change of the text is a new version).
      replaceFile(file, `${full}\n# written again\n`);
      await waitFor(
        'the valid supergraph after it',
        () => router.supergraphVersion === version + 1,
      );
      expect(await reloads('reloaded')).toBe(reloadedBefore + 1);
    });
  });

  it('logs a refused supergraph', async () => {
    const file = join(dir, 'logged.graphql');
    writeFileSync(file, full);
    const lines: { level: number; msg: string; err?: { message: string } }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
    );
    const config = structuredClone(stack.routerConfig);
    config.supergraph = file;
    config.reload.watch = false;
    const router = await createRouter({ config, logger });
    try {
      writeFileSync(file, 'type Query { broken');
      const report = await router.reload();
      expect(report).toMatchObject({ reloaded: false, version: 1 });
      const refused = lines.find((l) => l.msg.startsWith('supergraph reload refused'));
      expect(refused?.level).toBe(50);
      expect(refused?.err?.message).toBeTypeOf('string');
      expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
      // The same text read again (a stray change in its folder) is not refused once more.
      const refusals = () => lines.filter((l) => l.msg.startsWith('supergraph reload refused'));
      const unchanged = () => lines.filter((l) => l.msg.startsWith('supergraph unchanged since'));
      for (let again = 0; again < 2; again++) {
        expect(await router.reload()).toMatchObject({ reloaded: false, error: report.error });
      }
      expect([refusals().length, unchanged().length]).toEqual([1, 1]);
      // Unchanged since: nothing to do.
      writeFileSync(file, full);
      expect(await router.reload()).toEqual({ reloaded: false, version: 1 });
    } finally {
      await router.close();
    }
  });

  it('reloads a supergraph mounted as Kubernetes mounts a ConfigMap', async () => {
    // kubelet's layout: the file is a link through `..data`, a link to a timestamped folder,
    // and an update swaps `..data` atomically; the file itself never changes.
    const volume = mkdtempSync(join(dir, 'configmap-'));
    const publishVersion = (name: string, sdl: string) => {
      mkdirSync(join(volume, name));
      writeFileSync(join(volume, name, 'supergraph.graphql'), sdl);
      symlinkSync(name, join(volume, '..data_tmp'));
      renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
    };
    publishVersion('..2026_12_07_1', full);
    symlinkSync(join('..data', 'supergraph.graphql'), join(volume, 'supergraph.graphql'));
    const router = await startRouterWith(stack, (config) => {
      config.supergraph = join(volume, 'supergraph.graphql');
    });
    try {
      expect(router.supergraphVersion).toBe(1);
      publishVersion('..2026_12_07_2', withoutEmail);
      await waitFor('the reload', () => router.supergraphVersion === 2);
      expect((await post(router.url, EMAIL_QUERY)).body.errors?.[0]?.message).toMatch(/email/);
    } finally {
      await router.close();
    }
  });

  it('reloads a CLI router on SIGHUP', async () => {
    const file = join(dir, 'cli.graphql');
    writeFileSync(file, full);
    const yaml = join(dir, 'router.yaml');
    writeFileSync(
      yaml,
      [
        'listen:',
        '  port: 0',
        'reload:',
        '  watch: false',
        'shutdown:',
        '  delayMs: 1000',
        `supergraph: ${file}`,
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawnRouter(['--config', yaml], stackEnv(stack));
    try {
      const url = await listeningUrl(child);
      const messages: { msg?: string; version?: number }[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) =>
        messages.push(JSON.parse(line) as (typeof messages)[number]),
      );
      expect((await post(url, EMAIL_QUERY)).body.data).toBeDefined();

      writeFileSync(file, withoutEmail);
      // Not watched: only SIGHUP picks it up.
      child.kill('SIGHUP');
      await waitFor('the reload logged', () =>
        messages.some((m) => m.msg === 'supergraph reloaded' && m.version === 2),
      );
      expect((await post(url, EMAIL_QUERY)).body.errors?.[0]?.message).toMatch(/email/);

      // SIGHUP with nothing changed says so.
      child.kill('SIGHUP');
      await waitFor('the unchanged reload logged', () =>
        messages.some((m) => m.msg === 'SIGHUP: supergraph unchanged'),
      );

      // One while it stops (a config reloader beside it may send it) leaves the stop graceful.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const ready = url.replace('/graphql', '/ready');
      await waitFor('the drain', async () => (await fetch(ready)).status === 503);
      child.kill('SIGHUP');
      await waitFor('the SIGHUP ignored', () =>
        messages.some((m) => m.msg === 'SIGHUP ignored: the router is stopping'),
      );
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('runs one reload behind a slow one, however many are asked for meanwhile', async () => {
    // A registry that holds each request until the test answers it.
    const held: (() => void)[] = [];
    let answer = full;
    const slow = createServer((_, response) => {
      const text = answer; // what the registry has when it is asked
      held.push(() => void response.writeHead(200).end(text));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const { port } = slow.address() as AddressInfo;
    const answering = waitFor('the start-up fetch', () => held.length === 1).then(() =>
      held.shift()!(),
    );
    const router = await startRouterWith(stack, (config) => {
      config.supergraph = `http://127.0.0.1:${port}/supergraph.graphql`;
      config.reload.pollIntervalMs = 3_600_000; // only reload() asks here
    });
    await answering;
    try {
      const first = router.reload();
      await waitFor('the first reload fetching', () => held.length === 1);
      answer = withoutEmail;
      const asked = Array.from({ length: 5 }, () => router.reload());
      held.shift()!();
      expect(await first).toEqual({ reloaded: false, version: 1 });
      // The five are one reload, which fetches once, after they were all asked for.
      await waitFor('the second fetch', () => held.length === 1);
      held.shift()!();
      let answered: Awaited<ReturnType<Router['reload']>>[] | undefined;
      void Promise.all(asked).then((all) => (answered = all));
      await waitFor('the five reloads answered by that one fetch', () => answered !== undefined);
      const reports = answered!;
      expect(reports.map((r) => r.version)).toEqual([2, 2, 2, 2, 2]);
      expect(reports.every((r) => r === reports[0])).toBe(true);
      expect(held).toHaveLength(0);
      expect(router.supergraphVersion).toBe(2);
    } finally {
      await router.close();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  describe('a supergraph URL', () => {
    let server: Server;
    let served: string;
    let fetches = 0;

    beforeAll(async () => {
      served = full;
      server = createServer((_, response) => {
        fetches++;
        response.writeHead(200, { 'content-type': 'text/plain' }).end(served);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('is polled every reload.pollIntervalMs and a change is served', async () => {
      const { port } = server.address() as AddressInfo;
      const router = await startRouterWith(stack, (config) => {
        config.supergraph = `http://127.0.0.1:${port}/supergraph.graphql`;
        config.reload.pollIntervalMs = 1000;
      });
      try {
        expect(router.supergraphVersion).toBe(1);
        expect((await post(router.url, EMAIL_QUERY)).body.data).toBeDefined();
        served = withoutEmail;
        await waitFor('the polled supergraph', () => router.supergraphVersion === 2, 5_000);
        expect((await post(router.url, EMAIL_QUERY)).body.errors?.[0]?.message).toMatch(/email/);
        // A registry answering an error keeps the supergraph served.
        const before = fetches;
        served = full;
        server.removeAllListeners('request');
        server.on('request', (_, response) => {
          fetches++;
          response.writeHead(503).end();
        });
        await waitFor('another poll', () => fetches > before, 5_000);
        expect(router.supergraphVersion).toBe(2);
        expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
          data: { user: { name: 'Alice' } },
        });
      } finally {
        await router.close();
      }
    });
  });
});
