/** What the orchestrator and the load process say to each other in the query scenario. */
import type { LatencySummary } from '../histogram.js';
import type { AnswerFault } from './query-check.js';

export interface QuerySpec {
  /** The target's GraphQL-over-HTTP endpoint. */
  url: string;
  /**
   * The requests, sent in turn over all clients: each body (`{"query":…,"variables":…}`)
   * with the `data` its answer must have.
   */
  requests: readonly { body: string; expected: unknown }[];
  /** Requests in flight at all times, each on its own keep-alive connection. */
  concurrency: number;
  /** Querying before the measured window (plans cached, code optimised). */
  warmupMs: number;
  durationMs: number;
}

export interface QueryLoadResult {
  /** Answers to requests sent in the measured window, right or not. */
  answered: number;
  /** From the window's start to the last of those answers. */
  windowMs: number;
  /** Send → complete answer, over the window's requests. */
  latency: LatencySummary;
  /** Wrong answers in the window, by what was wrong. */
  faults: Record<AnswerFault, number>;
  /** The first wrong answer of the cell (warm-up too), for the log: what to look at. */
  firstFault?: string;
}
