import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { targetNames, type TargetName } from './targets/target.js';

export const scenarioNames = [
  'fan-out',
  'saturate',
  'spread',
  'mixed',
  'idle',
  'resume',
  'query',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** Everything a run can be told; `parseOptions` fills the defaults (full or `--quick`). */
export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  targets: TargetName[];
  /** Fan-out: subscriber counts on one subject. @default 1,100,1000,5000 (quick: 1,100,500) */
  fanout: number[];
  /** Fan-out and mixed: events per second. @default 100 (quick: 50) */
  rate: number;
  /**
   * Fan-out: cap on offered deliveries per second (events/s × subscribers); larger cells
   * publish fewer events per second. About what one load process absorbs on one core.
   * @default 100000
   */
  maxDeliveries: number;
  /**
   * Saturate: events published at once, as fast as the client library sends them, to
   * `saturateSubscribers` on one subject: what a server delivers when nothing paces it.
   * @default 200 (quick: 50)
   */
  burst: number;
  /** Saturate: subscribers on the one subject. @default 1000 (quick: 500) */
  saturateSubscribers: number;
  /** Spread: rooms, one subscriber each. @default 1000 (quick: 100) */
  spreadRooms: number;
  /** Spread: events per second over all rooms. @default 200 (quick: 100) */
  spreadRate: number;
  /** Mixed: subscribers on one subject, over 10 operations. @default 1000 (quick: 100) */
  mixedSubscribers: number;
  /** Idle: open subscriptions, one connection and one room each. @default 10000 (quick: 1000) */
  idleSubscribers: number;
  /** Resume: subscribers that never leave, whose latency is watched. @default 1000 (quick: 100) */
  resumeLive: number;
  /**
   * Resume: subscribers that leave and come back with their last cursor, one cell per count.
   * @default 1000 (quick: 100)
   */
  resumers: number[];
  /** Resume: events published while the resumers are away. @default 100 */
  resumeBehind: number;
  /**
   * Resume: events per second, all to one room, throughout. Lower than `rate`: at 100 events/s
   * 1,000 subscribers already take both cores of the 2-core machine the results come from, so
   * any extra work would show as latency whatever the router did with it. @default 20 (quick: 50)
   */
  resumeRate: number;
  /** Query: requests in flight at all times, per cell. @default 32 (quick: 8) */
  queryConcurrency: number;
  /** Measured publishing per cell (resume: the baseline window). @default 10 s (quick: 3 s) */
  durationMs: number;
  /** Publishing at the cell's rate before measuring. @default 2 s (quick: 0.5 s) */
  warmupMs: number;
  /** Wait for late deliveries after the last publish. @default 5 s (quick: 2 s) */
  drainMs: number;
  /** Where the report goes. @default bench/RESULTS.md */
  out: string;
  /** Run the router under `node --cpu-prof`, its profiles (one per cell) written here. @default none */
  cpuProf?: string;
}

export const usage = `Usage: pnpm bench [--quick] [--scenario fan-out,saturate,spread,mixed,idle,resume,query]
                  [--target router,relay,hive,apollo]
                  [--fanout 1,100,1000,5000] [--rate 100] [--max-deliveries 100000]
                  [--burst 200] [--saturate-subs 1000]
                  [--spread-rooms 1000] [--spread-rate 200]
                  [--mixed 1000] [--idle 10000]
                  [--resume-live 1000] [--resumers 1000] [--resume-behind 100] [--resume-rate 20]
                  [--query-concurrency 32]
                  [--duration 10] [--warmup 2] [--drain 5]
                  [--out bench/RESULTS.md] [--cpu-prof DIR]

  --quick      short cells and smaller counts: a smoke run of every scenario and target
  --scenario   scenarios to run (comma-separated or repeated); default all
  --target     targets to run; default all (router, relay = bare NATS→WebSocket ceiling,
               hive = Hive Gateway, apollo = Apollo Gateway: queries only)
  --fanout     subscriber counts of the fan-out scenario
  --rate       events per second of the fan-out and mixed scenarios
  --max-deliveries  fan-out cells publish at most this / subscribers events per second
  --burst, --saturate-subs
               saturate scenario: events published at once (after a warm-up burst of as
               many), and the subscribers on their one subject
  --resume-live, --resumers, --resume-behind, --resume-rate
               resume scenario (router only: durable subscriptions on JetStream): live
               subscribers, resumer counts (one cell each), events missed while away,
               events per second
  --query-concurrency  query scenario (router, hive, apollo; HTTP POST, every answer
               checked): requests in flight at all times
  --out        the report, in parts (side-by-side: fan-out, spread, mixed, idle; resume; query):
               a run rewrites a part only if it ran all of that part's scenarios
  --duration   measured seconds per cell; --warmup and --drain in seconds too
  --cpu-prof   run the router under node --cpu-prof, one .cpuprofile per cell in DIR
               (open in Chrome DevTools or speedscope); profiling slows it down`;

export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      fanout: { type: 'string' },
      rate: { type: 'string' },
      'max-deliveries': { type: 'string' },
      burst: { type: 'string' },
      'saturate-subs': { type: 'string' },
      'spread-rooms': { type: 'string' },
      'spread-rate': { type: 'string' },
      mixed: { type: 'string' },
      idle: { type: 'string' },
      'resume-live': { type: 'string' },
      resumers: { type: 'string' },
      'resume-behind': { type: 'string' },
      'resume-rate': { type: 'string' },
      'query-concurrency': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      drain: { type: 'string' },
      out: { type: 'string', default: 'bench/RESULTS.md' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick;
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number, not "${raw}"`);
    return value;
  };
  return {
    quick,
    scenarios: pick('scenario', values.scenario, scenarioNames),
    targets: pick('target', values.target, targetNames),
    fanout: values.fanout
      ? values.fanout.split(',').map((n) => number('fanout', n, 1))
      : quick
        ? [1, 100, 500]
        : [1, 100, 1000, 5000],
    rate: number('rate', values.rate, quick ? 50 : 100),
    maxDeliveries: number('max-deliveries', values['max-deliveries'], 100_000),
    burst: number('burst', values.burst, quick ? 50 : 200),
    saturateSubscribers: number('saturate-subs', values['saturate-subs'], quick ? 500 : 1000),
    spreadRooms: number('spread-rooms', values['spread-rooms'], quick ? 100 : 1000),
    spreadRate: number('spread-rate', values['spread-rate'], quick ? 100 : 200),
    mixedSubscribers: number('mixed', values.mixed, quick ? 100 : 1000),
    idleSubscribers: number('idle', values.idle, quick ? 1000 : 10_000),
    resumeLive: number('resume-live', values['resume-live'], quick ? 100 : 1000),
    resumers: values.resumers
      ? values.resumers.split(',').map((n) => number('resumers', n, 1))
      : [quick ? 100 : 1000],
    resumeBehind: number('resume-behind', values['resume-behind'], 100),
    resumeRate: number('resume-rate', values['resume-rate'], quick ? 50 : 20),
    queryConcurrency: number('query-concurrency', values['query-concurrency'], quick ? 8 : 32),
    durationMs: number('duration', values.duration, quick ? 3 : 10) * 1000,
    warmupMs: number('warmup', values.warmup, quick ? 0.5 : 2) * 1000,
    drainMs: number('drain', values.drain, quick ? 2 : 5) * 1000,
    out: values.out,
    ...(values['cpu-prof'] !== undefined && { cpuProf: resolve(values['cpu-prof']) }),
  };
}

function pick<T extends string>(flag: string, given: string[] | undefined, all: readonly T[]): T[] {
  if (!given) return [...all];
  const names = given
    .flatMap((g) => g.split(','))
    .map((n) => n.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!all.includes(name as T))
      throw new Error(`--${flag} ${name}: expected one of ${all.join(', ')}`);
  }
  return all.filter((name) => names.includes(name));
}
