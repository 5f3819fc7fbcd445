import { mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { runScript, type RunningScript } from './support/scripts.js';

const start = [process.execPath, '--import', 'tsx', 'stack/start.ts'];
const pub = [process.execPath, '--import', 'tsx', 'stack/pub.ts'];

describe('pnpm start', () => {
  // nats-server's store goes to TMPDIR: a directory of the test's own shows what is left.
  let tmp: string;
  const running: RunningScript[] = [];
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edfs-start-'));
  });
  afterEach(async () => {
    for (const script of running.splice(0)) {
      script.signalGroup('SIGKILL');
      await script.exited;
    }
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const natsStores = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('edfs-nats-'));
  const runStart = (
    env: Record<string, string | undefined> = {},
    command: readonly string[] = start,
  ): RunningScript => {
    const script = runScript(command, {
      TMPDIR: tmp,
      LOG_LEVEL: undefined,
      NATS_URL: undefined,
      // Free ports unless a test says otherwise: the defaults may be in use on this machine.
      PORT: '0',
      SUBGRAPH_MESSAGE_PORT: '0',
      SUBGRAPH_USER_PORT: '0',
      SUBGRAPH_SCRAPE_JOB_PORT: '0',
      NATS_PORT: '0',
      NATS_MONITOR_PORT: '0',
      ...env,
    });
    running.push(script);
    return script;
  };

  describe('with a port taken', () => {
    let holder: Server;
    let taken: number;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      taken = (holder.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => holder?.close(resolve));
    });

    it.each([
      ['NATS_MONITOR_PORT', 'NATS monitoring'],
      ['NATS_PORT', 'NATS'],
      ['PORT', 'the router'],
      ['SUBGRAPH_MESSAGE_PORT', 'the message subgraph'],
      ['SUBGRAPH_USER_PORT', 'the user subgraph'],
      ['SUBGRAPH_SCRAPE_JOB_PORT', 'the scrape-job subgraph'],
    ])('names the port and %s, and starts nothing', async (env, what) => {
      const script = runStart({ [env]: String(taken) });
      expect(await script.exited).toEqual({ code: 1, signal: null });
      expect(script.stderr).toBe(
        `pnpm start: port ${taken} (${what}) is taken on 127.0.0.1: stop what uses it, ` +
          `or set ${env} to another port (0 picks a free one)\n`,
      );
      expect(script.stdout).toBe(''); // no log line: nothing started
      expect(natsStores()).toEqual([]);
    });

    it('does not check the NATS ports when NATS_URL names a NATS to use', async () => {
      const nats = await startNatsServer();
      try {
        const script = runStart({
          NATS_URL: nats.url,
          NATS_PORT: String(taken),
          NATS_MONITOR_PORT: String(taken),
        });
        await script.printed(/^ {2}NATS {2,}(\S+)$/m);
        expect(script.stdout).toMatch(new RegExp(`^ {2}NATS {2,}${nats.url}$`, 'm'));
        expect(natsStores()).toEqual([]);
        script.signalGroup('SIGINT');
        await script.exited;
        expect(script.ended).toEqual({ code: 0, signal: null, stderr: '' });
      } finally {
        await nats.stop();
      }
    });
  });

  it('refuses a port setting that is not a port number', async () => {
    const script = runStart({ NATS_MONITOR_PORT: '82 22' });
    expect(await script.exited).toEqual({ code: 1, signal: null });
    expect(script.stderr).toBe(
      'pnpm start: NATS_MONITOR_PORT must be a port number from 0 to 65535 (0 picks a free one), not "82 22"\n',
    );
  });

  it('refuses one port asked for twice', async () => {
    const script = runStart({ PORT: '4999', SUBGRAPH_USER_PORT: '4999' });
    expect(await script.exited).toEqual({ code: 1, signal: null });
    expect(script.stderr).toBe(
      'pnpm start: port 4999 is asked for by both PORT (the router) and SUBGRAPH_USER_PORT ' +
        '(the user subgraph): move one of them\n',
    );
  });

  it.each([
    ['SIGINT', 'Ctrl-C'],
    ['SIGTERM', 'kill'],
    ['SIGHUP', 'a closed terminal'],
  ] as const)(
    'stops on %s (%s) with one line and status 0, NATS and its store gone',
    async (signal, _what) => {
      const script = runStart();
      // The banner, and the router's own log line that its logger may write after it.
      await Promise.all([
        script.printed(/Ctrl-C stops everything\.\n/),
        script.printed(/"msg":"router listening"/),
      ]);
      const monitor = /\(monitoring (http:\S+)\)/.exec(script.stdout)![1]!;
      expect((await fetch(`${monitor}/healthz`)).status).toBe(200);
      expect(natsStores()).toHaveLength(1);

      const before = script.stdout.length;
      script.signalGroup(signal);
      await script.exited;
      expect(script.ended).toEqual({ code: 0, signal: null, stderr: '' });
      expect(script.stdout.slice(before)).toBe('stopped.\n');
      expect(natsStores()).toEqual([]);
      await expect(fetch(`${monitor}/healthz`)).rejects.toThrow(); // nats-server is gone
    },
  );

  it('stops cleanly on a Ctrl-C that comes while it starts', async () => {
    const script = runStart();
    const store = join(tmp, await created(tmp, (name) => name.startsWith('edfs-nats-')));
    // nats-server makes this itself, so it runs, in its own process group; the subgraphs and
    // the router are yet to start. (A Ctrl-C in the instant between its fork and its setsid
    // would still reach it and fail the start: that instant is why the test waits for this.)
    await created(store, (name) => name === 'jetstream');
    script.signalGroup('SIGINT');
    await script.exited;
    expect(script.ended).toEqual({ code: 0, signal: null, stderr: '' });
    expect(script.stdout).not.toContain('is up');
    expect(script.stdout).toMatch(/(^|\n)stopped\.\n$/);
    expect(natsStores()).toEqual([]);
  });

  // pnpm runs a script with `sh -c`, and sh ends itself with SIGINT after a Ctrl-C whatever
  // its child did, so pnpm reports ELIFECYCLE; only a script that `exec`s its command ends 0.
  const startScript = (
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts['start']!;
  it.skipIf(!startScript.startsWith('exec '))(
    'through pnpm, ends with status 0 and no ELIFECYCLE on a terminal Ctrl-C',
    async () => {
      const pnpm = runStart({}, ['pnpm', 'start']);
      await Promise.all([
        pnpm.printed(/Ctrl-C stops everything\.\n/),
        pnpm.printed(/"msg":"router listening"/),
      ]);
      const before = pnpm.stdout.length;
      pnpm.signalGroup('SIGINT');
      await pnpm.exited;
      expect(pnpm.ended).toEqual({ code: 0, signal: null, stderr: '' });
      expect(pnpm.stdout.slice(before)).toBe('stopped.\n'); // pnpm writes ELIFECYCLE here
      expect(natsStores()).toEqual([]);
    },
  );
});

describe('pnpm pub', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const publish = async (subject: string, payload: string) => {
    const subscription = nc.subscribe(subject, { max: 1 });
    await nc.flush();
    const script = runScript([...pub, subject, payload], { NATS_URL: nats.url });
    const received: string[] = [];
    for await (const message of subscription) received.push(message.string());
    return { ...(await script.exited), received, stdout: script.stdout, stderr: script.stderr };
  };

  it('warns that a payload that is not JSON makes an INVALID_EVENT, and sends it', async () => {
    const result = await publish('room.7.messages', 'Hello, Bob!');
    expect(result).toEqual({
      code: 0,
      signal: null,
      received: ['Hello, Bob!'],
      stdout: 'published 11 bytes to room.7.messages\n',
      stderr:
        'pnpm pub: warning: the payload is not JSON; the router will answer subscribers with INVALID_EVENT\n',
    });
  });

  it('warns about JSON that is not an event', async () => {
    const array = await publish('room.7.messages', '[1]');
    expect(array.stderr).toContain('warning: the payload is not a JSON object;');
    expect(array.received).toEqual(['[1]']);
    const untyped = await publish('room.7.messages', '{"id":"1"}');
    expect(untyped.stderr).toContain('warning: the payload has no "__typename";');
  });

  it('sends an event quietly', async () => {
    const event = '{"__typename":"Message","id":"1"}';
    const result = await publish('room.7.messages', event);
    expect(result).toMatchObject({ code: 0, received: [event], stderr: '' });
  });
});

/** Resolves with the name of the first entry of `dir` that matches, once there is one. */
function created(dir: string, matches: (name: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const found = (name: string): void => {
      watcher.close();
      resolve(name);
    };
    const watcher = watch(dir, (_event, name) => {
      if (name && matches(name)) found(name);
    });
    watcher.once('error', reject);
    const existing = readdirSync(dir).find(matches); // made before the watch began
    if (existing) found(existing);
  });
}
