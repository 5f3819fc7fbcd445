import type { BenchOptions, ScenarioName } from './options.js';
import { operations } from './operations.js';

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
  /** Events per second over all rooms (0 in idle mode). */
  rate: number;
  mode: 'deliver' | 'idle';
}

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
  return Math.max(1, ...cells.map((cell) => Math.round((cell.rate * durationMs) / 1000)));
}
