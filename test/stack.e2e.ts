import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../stack/nats-server.js';
import { runScript, type RunningScript } from './support/scripts.js';

const start = [process.execPath, '--import', 'tsx', 'stack/start.ts'];

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
  const runStart = (env: Record<string, string | undefined> = {}): RunningScript => {
    const script = runScript(start, {
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
        expect(await script.exited).toEqual({ code: 0, signal: null });
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
});
