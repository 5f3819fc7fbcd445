import type { BenchOptions, ScenarioName } from './options.js';
import { operations } from './operations.js';
import type { QueryOperationName } from './query-operations.js';
import { queryCells } from './query-scenario.js';
import type { TargetName } from './targets/target.js';

/** One row of a scenario, run against each target in turn. */
export interface Cell {
  scenario: ScenarioName;
  /** e.g. "1,000 subs" */
  label: string;
  subscribers: number;
  /** Room ids; subscriber `i` and event `n` go to `rooms[i % length]`, `rooms[n % length]`. */
  rooms: string[];
  /** How many different operations the subscribers spread over. */
  operations: number;
  /** Events per second over all rooms (0 in idle mode; the burst's size in a burst). */
  rate: number;
  /** Publish the cell's events all at once, not at `rate`: a burst of `rate` events. */
  burst?: boolean;
  mode: 'deliver' | 'idle' | 'resume' | 'query';
  /** Only these targets can run it; the others are skipped, saying `why`. All if absent. */
  only?: { targets: readonly TargetName[]; why: string };
  /** Resume mode: `subscribers` stay; these leave and come back `behind` events later. */
  resume?: { resumers: number; behind: number };
  /** Query mode: no subscribers; this operation over HTTP, `concurrency` requests in flight. */
  query?: { operation: QueryOperationName; concurrency: number };
}

/**
 * Resume mode: the most time the resumers may take to join, leave, come back and catch up
 * after the baseline window. Bounds the cell, and the seed messages it needs.
 */
export const resumeTimeoutMs = 120_000;

const n = (value: number): string => value.toLocaleString('en-US');
const rooms = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** The cells of the chosen scenarios, in the order they run. */
export function cellsFor(options: BenchOptions): Cell[] {
  const cells: Cell[] = [];
  for (const scenario of options.scenarios) {
    switch (scenario) {
      case 'fan-out':
        for (const subscribers of options.fanout) {
          cells.push({
            scenario,
            label: `${n(subscribers)} subs, 1 subject`,
            subscribers,
            rooms: ['fanout'],
            operations: 1,
            rate: Math.min(options.rate, options.maxDeliveries / subscribers),
            mode: 'deliver',
          });
        }
        break;
      case 'saturate':
        cells.push({
          scenario,
          label: `${n(options.saturateSubscribers)} subs, burst of ${n(options.burst)}`,
          subscribers: options.saturateSubscribers,
          rooms: ['saturate'],
          operations: 1,
          rate: options.burst,
          burst: true,
          mode: 'deliver',
          only: {
            targets: ['router', 'relay'],
            why: 'Hive Gateway resolves each event once per subscriber, so a burst to 1,000 of them takes minutes and shows what the fan-out cells already do',
          },
        });
        break;
      case 'spread':
        cells.push({
          scenario,
          label: `${n(options.spreadRooms)} subjects × 1 sub`,
          subscribers: options.spreadRooms,
          rooms: rooms('spread', options.spreadRooms),
          operations: 1,
          rate: options.spreadRate,
          mode: 'deliver',
        });
        break;
      case 'mixed':
        cells.push({
          scenario,
          label: `${n(options.mixedSubscribers)} subs, ${operations.length} operations`,
          subscribers: options.mixedSubscribers,
          rooms: ['mixed'],
          operations: operations.length,
          rate: options.rate,
          mode: 'deliver',
        });
        break;
      case 'resume':
        for (const resumers of options.resumers) {
          cells.push({
            scenario,
            label: `${n(options.resumeLive)} live + ${n(resumers)} resuming ${n(options.resumeBehind)} behind`,
            subscribers: options.resumeLive,
            rooms: ['resume'],
            operations: 1,
            rate: options.resumeRate,
            mode: 'resume',
            only: {
              targets: ['router'],
              why: 'the relay and Hive Gateway read core NATS: they keep no events and give no cursor to resume from',
            },
            resume: { resumers, behind: options.resumeBehind },
          });
        }
        break;
      case 'query':
        cells.push(...queryCells(options));
        break;
      case 'idle':
        cells.push({
          scenario,
          label: `${n(options.idleSubscribers)} idle subs`,
          subscribers: options.idleSubscribers,
          rooms: rooms('idle', options.idleSubscribers),
          operations: 1,
          rate: 0,
          mode: 'idle',
        });
        break;
    }
  }
  return cells;
}

/** Measured events in the busiest cell: how many seed messages the run needs. */
export function eventsNeeded(cells: readonly Cell[], durationMs: number): number {
  const events = (cell: Cell): number =>
    cell.resume
      ? // Published without pause from the baseline to the end: bounded by the time limit.
        Math.ceil((cell.rate * (durationMs + resumeTimeoutMs + 10_000)) / 1000) + cell.resume.behind
      : cell.burst
        ? cell.rate
        : Math.round((cell.rate * durationMs) / 1000);
  return Math.max(1, ...cells.map(events));
}
