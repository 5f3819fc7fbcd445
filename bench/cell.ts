import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Backend } from './backend.js';
import type { CellSpec, LoadResult, ToLoad, ToOrchestrator } from './load/protocol.js';
import type { QueryLoadResult } from './load/query-protocol.js';
import type { BenchOptions } from './options.js';
import type { QueryFixture } from './query-fixture.js';
import { querySpec } from './query-scenario.js';
import { childPids, CpuWindow, memory, resetPeakRss } from './proc-stats.js';
import { resumeTimeoutMs, type Cell } from './scenarios.js';
import { killOnExit, repoRoot, stopChild } from './targets/child.js';
import { startTarget } from './targets/index.js';
import type { RunningTarget, TargetName } from './targets/target.js';

const loadScript = fileURLToPath(new URL('load.ts', import.meta.url));

/**
 * % of one core over a window; `other` is what the rest of the machine used meanwhile
 * (another job on it makes the other numbers suspect).
 */
export interface CpuShares {
  server: number;
  load: number;
  subgraphs: number;
  nats: number;
  other: number;
}

/** What one cell measured against one target. */
export interface CellResult {
  cell: Cell;
  target: TargetName;
  /** Set when the cell could not be run to the end; the other fields may be missing. */
  error?: string;
  load?: LoadResult;
  /** Query mode: what the load process measured (instead of `load`). */
  query?: QueryLoadResult;
  /** CPU over the measured window (in the resume scenario: while the resumers catch up). */
  cpu?: CpuShares;
  /** Peak RSS of the server over the cell (subscribing, warm-up and measuring). */
  peakRss?: number;
  /** HTTP requests that reached the subgraphs in the measured window. */
  subgraphRequests?: number;
  /** Resume scenario: CPU and subgraph requests in the window before any resumer. */
  baseline?: { cpu: CpuShares; subgraphRequests: number };
  /** Idle scenario: server RSS with the baseline subscriptions and with all of them. */
  idle?: { baseline: number; subscribers: number; rssBefore: number; rssAfter: number };
}

export interface CellContext {
  backend: Backend;
  workDir: string;
  options: BenchOptions;
  /** The data query cells read; made before the first of them. */
  queries?: QueryFixture;
}

/** Starts the target afresh, runs the load process against it, and stops both. */
export async function runCell(
  cell: Cell,
  name: TargetName,
  context: CellContext,
): Promise<CellResult> {
  const result: CellResult = { cell, target: name };
  let target: RunningTarget | undefined;
  let load: ChildProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    target = await startTarget[name]({
      backend: context.backend,
      workDir: context.workDir,
      durable: cell.mode === 'resume',
      ...(context.options.cpuProf !== undefined && { cpuProfileDir: context.options.cpuProf }),
    });
    const pid = target.pid;
    resetPeakRss(pid);
    let peak = memory(pid).rss;
    sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memory(pid).rss);
      } catch {
        // the server has exited; the cell will fail on its own
      }
    }, 200);

    load = fork(loadScript, [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    killOnExit(load);
    const natsPid = childPids('nats-server')[0] ?? 0;
    const pids = { server: pid, load: load.pid!, subgraphs: process.pid, nats: natsPid };
    /** Open measuring windows (`measure`, `baseline`): CPU and subgraph requests so far. */
    const windows = new Map<string, { cpu: CpuWindow; requests: number }>();
    const openWindow = (name: string): void =>
      void windows.set(name, {
        cpu: new CpuWindow(Object.values(pids).filter((p) => p > 0)),
        requests: context.backend.requests.total(),
      });
    const closeWindow = (name: string): { cpu: CpuShares; subgraphRequests: number } => {
      const { cpu, requests } = windows.get(name)!;
      const { byPid, machine } = cpu.close();
      const of = (pid: number): number => byPid.get(pid) ?? Number.NaN;
      const ours = [...byPid.values()].reduce((sum, p) => sum + (Number.isNaN(p) ? 0 : p), 0);
      return {
        cpu: {
          server: of(pids.server),
          load: of(pids.load),
          subgraphs: of(pids.subgraphs),
          nats: of(pids.nats),
          other: Math.max(0, machine - ours),
        },
        subgraphRequests: context.backend.requests.total() - requests,
      };
    };
    const idle = { baseline: 0, subscribers: cell.subscribers, rssBefore: 0, rssAfter: 0 };

    await new Promise<void>((resolve, reject) => {
      const child = load!;
      const tell = (message: ToLoad): void => void child.send(message);
      const timeout = setTimeout(
        () => reject(new Error('cell timed out after 10 minutes')),
        600_000,
      );
      child.on('message', (message: ToOrchestrator) => {
        switch (message.type) {
          case 'checkpoint':
            void (async () => {
              switch (message.name) {
                case 'measure-start':
                  openWindow('measure');
                  break;
                case 'measure-end': {
                  const measured = closeWindow('measure');
                  result.cpu = measured.cpu;
                  result.subgraphRequests = measured.subgraphRequests;
                  break;
                }
                case 'baseline-start':
                  openWindow('baseline');
                  break;
                case 'baseline-end':
                  result.baseline = closeWindow('baseline');
                  break;
                case 'idle-before':
                  idle.rssBefore = await settledRss(pid);
                  break;
                case 'idle-after':
                  idle.rssAfter = await settledRss(pid);
                  break;
              }
              tell({ type: 'continue' });
            })();
            return;
          case 'result':
            clearTimeout(timeout);
            result.load = message.result;
            return resolve();
          case 'query-result':
            clearTimeout(timeout);
            result.query = message.result;
            return resolve();
          case 'failed':
            clearTimeout(timeout);
            return reject(new Error(message.message));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timeout);
        reject(new Error(`load process exited with ${code} before its result`));
      });
      tell(
        cell.mode === 'query'
          ? { type: 'run-query', spec: querySpec(cell, target!, context.queries!, context.options) }
          : { type: 'run', spec: specFor(cell, target!, context) },
      );
    });
    result.peakRss = Math.max(peak, memory(pid).peak);
    if (cell.mode === 'idle') idle.baseline = Math.min(idleBaseline(cell), cell.subscribers);
    if (cell.mode === 'idle') result.idle = idle;
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    clearInterval(sampler);
    if (load) await stopChild(load, 5000);
    await target?.stop().catch((error: unknown) => {
      result.error ??= `stopping ${name} failed: ${(error as Error).message}`;
    });
  }
  return result;
}

/** Subscriptions opened before the idle "before" reading: code paths loaded, caches made. */
function idleBaseline(cell: Cell): number {
  return Math.max(1, Math.round(cell.subscribers / 100));
}

function specFor(cell: Cell, target: RunningTarget, { backend, options }: CellContext): CellSpec {
  const { mode } = cell;
  if (mode === 'query') throw new Error('a query cell has no subscribers: see querySpec');
  return {
    url: target.url,
    natsUrl: backend.nats.url,
    natsMonitorUrl: backend.nats.monitorUrl,
    subjectTemplate: target.subjectTemplate,
    subscribers: cell.subscribers,
    rooms: cell.rooms,
    operations: cell.operations,
    mode,
    rate: cell.rate,
    ...(cell.burst && { burst: true }),
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    drainMs: options.drainMs,
    eventIds: [...backend.messageIds],
    warmupIds: ['1', '2'],
    joins: target.joins,
    idleBaseline: idleBaseline(cell),
    connectConcurrency: 50,
    establishTimeoutMs: 120_000,
    ...(cell.resume && { resume: { ...cell.resume, timeoutMs: resumeTimeoutMs } }),
  };
}

/** RSS once the server has been left alone for 2 s: the median of five readings. */
async function settledRss(pid: number): Promise<number> {
  await sleep(2000);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(memory(pid).rss);
    await sleep(300);
  }
  return readings.sort((a, b) => a - b)[2]!;
}
