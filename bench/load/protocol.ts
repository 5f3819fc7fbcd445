/** What the orchestrator and the load process say to each other over the IPC channel. */
import type { LatencySummary } from '../histogram.js';
import type { QueryLoadResult, QuerySpec } from './query-protocol.js';

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
  /**
   * `deliver` publishes and measures; `idle` only opens subscriptions (memory per
   * subscription); `resume` adds subscribers that leave and resume from their cursor.
   */
  mode: 'deliver' | 'idle' | 'resume';
  /** Events per second, over all rooms; in a burst, how many events it has. */
  rate: number;
  /** Publish the events (warm-up and measured) all at once instead of at `rate`. */
  burst?: boolean;
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
  /** Resume mode: the subscribers that leave and come back (`subscribers` are the live ones). */
  resume?: ResumeSpec;
}

export interface ResumeSpec {
  /** Subscribers that leave and resume, on the live subscribers' room and operation. */
  resumers: number;
  /** Events published while they are away: how far behind they resume. */
  behind: number;
  /** The resumers joining, leaving, coming back and catching up, within this. */
  timeoutMs: number;
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
  /** Measured results that came after a later event's result to the same subscriber. */
  reordered: number;
  /** Results with GraphQL `errors`, without the joined fields, or sent to the wrong room. */
  errors: number;
  /** Results with GraphQL errors, by the first error's `extensions.code`. */
  errorCodes: Record<string, number>;
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
  /** Resume mode: the resumers, and the live subscribers' latency window by window. */
  resume?: ResumeResult;
}

/**
 * The resume scenario's windows, named by what the resumers are doing while an event is
 * published: not there yet, joining and leaving, away, catching up, caught up.
 */
export const resumeWindows = ['baseline', 'joining', 'away', 'catch-up', 'after'] as const;
export type ResumeWindow = (typeof resumeWindows)[number];

export interface WindowLatency extends LatencySummary {
  /** Events published in the window, and receipts of them measured. */
  events: number;
  receipts: number;
}

export interface ResumeResult {
  resumers: number;
  /** Events each resumer had missed when it subscribed again (the run aims at `behind`). */
  behind: { min: number; max: number };
  /** Per resumer, from its subscribe with a cursor to having every missed event. */
  catchUp: LatencySummary;
  /** From the first subscribe with a cursor to the last resumer caught up; -1 if some never did. */
  allCaughtUpMs: number;
  /**
   * Resumers that got every missed event. The others got a later event first (results
   * come in order: the missing one never will), ended, or ran out of time.
   */
  caughtUp: number;
  /** Results of missed events the resumers received: the replay. */
  replayed: number;
  /** Every event after each resumer's cursor to the last published, and what came of them. */
  expected: number;
  received: number;
  missing: number;
  /** Where missing missed events fall: 1 is the first after the cursor (0, 0 when none). */
  missingReplayedAt: { first: number; last: number };
  /** Of the missing, events published after the resubscribe: live ones, not replayed. */
  missingLive: number;
  /**
   * Where those fall, over all resumers: 1 is the first event published after the
   * resubscribe (0, 0 when none are missing).
   */
  missingLiveAfter: { first: number; last: number };
  duplicates: number;
  /** Results that came after a later event's. */
  outOfOrder: number;
  errors: number;
  /** Results with GraphQL errors, by the first error's `extensions.code`. */
  errorCodes: Record<string, number>;
  incomplete: number;
  /** Resumed subscriptions that ended before the run did, and how many for each reason. */
  ended: number;
  endReasons: Record<string, number>;
  /** The live subscribers' publish → receipt latency, by the window of the event's publish. */
  live: Record<ResumeWindow, WindowLatency>;
}

export type ToOrchestrator =
  | { type: 'checkpoint'; name: Checkpoint }
  | { type: 'result'; result: LoadResult }
  | { type: 'query-result'; result: QueryLoadResult }
  | { type: 'failed'; message: string };

export type ToLoad =
  { type: 'run'; spec: CellSpec } | { type: 'run-query'; spec: QuerySpec } | { type: 'continue' };

/**
 * Moments the load process stops at until the orchestrator says `continue`:
 * `measure-start` / `measure-end` bracket the measured window (CPU, subgraph requests; in
 * the resume scenario, the catch-up), `baseline-start` / `baseline-end` the resume
 * scenario's window before any resumer, `idle-before` / `idle-after` are the two memory
 * readings of the idle scenario.
 */
export type Checkpoint =
  | 'measure-start'
  | 'measure-end'
  | 'baseline-start'
  | 'baseline-end'
  | 'idle-before'
  | 'idle-after';
