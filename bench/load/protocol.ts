/** What the orchestrator and the load process say to each other over the IPC channel. */
import type { LatencySummary } from '../histogram.js';

/** One cell: one scenario size against one target. */
export interface CellSpec {
  /** The target's graphql-transport-ws endpoint. */
  url: string;
  natsUrl: string;
  /** The nats-server monitoring endpoint (for `/subsz`). */
  natsMonitorUrl: string;
  /** NATS subject of a room, `{room}` standing for its id. */
  subjectTemplate: string;
  /** One WebSocket connection, with one subscription, per subscriber. */
  subscribers: number;
  /** Subscriber `i` listens to room `rooms[i % rooms.length]`; event `n` goes to `rooms[n % rooms.length]`. */
  rooms: string[];
  /** Subscriber `i` sends operation `i % operations` (see bench/operations.ts). */
  operations: number;
  /** `deliver` publishes and measures; `idle` only opens subscriptions (memory per subscription). */
  mode: 'deliver' | 'idle';
  /** Events per second, over all rooms. */
  rate: number;
  durationMs: number;
  /** Publishing at `rate` with warm-up ids before measuring. */
  warmupMs: number;
  /** How long after the last publish to wait for the last deliveries. */
  drainMs: number;
  /** Ids of existing messages, one per measured event (so at least rate × duration). */
  eventIds: string[];
  /** Ids used for warm-up events; receipts of these are not measured. */
  warmupIds: string[];
  /** Whether results carry fields joined from the subgraphs (false for the relay). */
  joins: boolean;
  /** In idle mode: subscriptions opened before the "before" memory reading. */
  idleBaseline: number;
  /** WebSocket connections being opened at once. */
  connectConcurrency: number;
  /** Give up establishing subscriptions after this long. */
  establishTimeoutMs: number;
}

export interface LoadResult {
  subscribers: number;
  connectMs: number;
  establishMs: number;
  /** Measured events published, and over how long. */
  published: number;
  publishMs: number;
  /** Deliveries the subscribers should have had, and the distinct ones they had. */
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  /** Results with GraphQL `errors`, without the joined fields, or sent to the wrong room. */
  errors: number;
  incomplete: number;
  misrouted: number;
  /** Subscriptions that ended (socket closed, `complete`, `error`) while measuring. */
  ended: number;
  /**
   * From the first measured publish to the last measured receipt, or to the end of the
   * drain when some deliveries never came.
   */
  windowMs: number;
  /** Results of any kind received in the window, warm-up stragglers of an overloaded server too. */
  deliveredInWindow: number;
  latency: LatencySummary;
}

export type ToOrchestrator =
  | { type: 'checkpoint'; name: Checkpoint }
  | { type: 'result'; result: LoadResult }
  | { type: 'failed'; message: string };

export type ToLoad = { type: 'run'; spec: CellSpec } | { type: 'continue' };

/**
 * Moments the load process stops at until the orchestrator says `continue`:
 * `measure-start` / `measure-end` bracket the measured window (CPU, subgraph requests),
 * `idle-before` / `idle-after` are the two memory readings of the idle scenario.
 */
export type Checkpoint = 'measure-start' | 'measure-end' | 'idle-before' | 'idle-after';
