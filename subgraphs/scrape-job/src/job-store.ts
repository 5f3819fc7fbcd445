import type { EventPublisher } from '@edfs/subgraph-shared';
import { ScrapeJobNotFoundError } from './errors.js';
import type { HtmlSummary } from './html-summary.js';

interface JobState<
  Status extends string,
  Progress extends number | null,
  Failure extends string | null,
> {
  readonly id: string;
  readonly status: Status;
  readonly progress: Progress;
  readonly error: Failure;
}

/** A job's state as `ScrapeJobState` shows it; a union keyed on `status`. */
export type ScrapeJobState =
  | JobState<'PENDING', null, null>
  | JobState<'IN_PROGRESS', number, null>
  | JobState<'COMPLETE', 1, null>
  | JobState<'FAILED', number | null, string>;

/** The summary of a scraped page, as `ScrapeResult` shows it. */
export interface ScrapeResult extends HtmlSummary {
  readonly url: string;
}

/** A job that has stopped: COMPLETE or FAILED. */
export type SettledScrapeJobState = Extract<ScrapeJobState, { status: 'COMPLETE' | 'FAILED' }>;

/** The subject the events graph's `scrapeJobState(id)` listens on. */
export function scrapeJobSubject(id: string): string {
  return `scrapeJob.${id}.state`;
}

function isSettled(state: ScrapeJobState): state is SettledScrapeJobState {
  return state.status === 'COMPLETE' || state.status === 'FAILED';
}

/**
 * Jobs and results kept in memory. Every change is stored first and then published as
 * `{"__typename":"ScrapeJobState","id":…}` on `scrapeJob.<id>.state`, so a router that
 * resolves the event's key reads the new state.
 */
export class ScrapeJobStore {
  readonly #states = new Map<string, ScrapeJobState>();
  readonly #results = new Map<string, ScrapeResult>();
  readonly #waiters = new Map<string, ((state: SettledScrapeJobState) => void)[]>();
  readonly #publisher: EventPublisher;

  constructor(publisher: EventPublisher) {
    this.#publisher = publisher;
  }

  get(id: string): ScrapeJobState | undefined {
    return this.#states.get(id);
  }

  /** The page's summary; set together with the COMPLETE state. */
  result(id: string): ScrapeResult | undefined {
    return this.#results.get(id);
  }

  /** Starts a job in PENDING. */
  create(id: string): void {
    this.#set({ id, status: 'PENDING', progress: null, error: null });
  }

  progress(id: string, progress: number): void {
    this.#set({ id, status: 'IN_PROGRESS', progress, error: null });
  }

  complete(id: string, result: ScrapeResult): void {
    this.#results.set(id, result);
    this.#set({ id, status: 'COMPLETE', progress: 1, error: null });
  }

  /** Marks the job FAILED, keeping the progress it had reached. */
  fail(id: string, error: string): void {
    this.#set({ id, status: 'FAILED', progress: this.get(id)?.progress ?? null, error });
  }

  /** Resolves with the job's final state once it is COMPLETE or FAILED. */
  whenSettled(id: string): Promise<SettledScrapeJobState> {
    const state = this.get(id);
    if (state === undefined) return Promise.reject(new ScrapeJobNotFoundError(id));
    if (isSettled(state)) return Promise.resolve(state);
    return new Promise((resolve) => {
      this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), resolve]);
    });
  }

  #set(state: ScrapeJobState): void {
    this.#states.set(state.id, state);
    this.#publisher.publish(scrapeJobSubject(state.id), {
      __typename: 'ScrapeJobState',
      id: state.id,
    });
    if (isSettled(state)) {
      for (const resolve of this.#waiters.get(state.id) ?? []) resolve(state);
      this.#waiters.delete(state.id);
    }
  }
}
