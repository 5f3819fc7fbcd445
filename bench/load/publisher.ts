import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';

/** Publishes `{"__typename":"Message","id":…}` events to rooms' subjects. */
export class EventPublisher {
  readonly #nc: NatsConnection;
  readonly #subjectTemplate: string;

  private constructor(nc: NatsConnection, subjectTemplate: string) {
    this.#nc = nc;
    this.#subjectTemplate = subjectTemplate;
  }

  static async connect(url: string, subjectTemplate: string): Promise<EventPublisher> {
    return new EventPublisher(
      await connect({ servers: url, name: 'bench-publisher' }),
      subjectTemplate,
    );
  }

  publish(room: string, messageId: string): void {
    this.#nc.publish(
      this.#subjectTemplate.replace('{room}', room),
      JSON.stringify({ __typename: 'Message', id: messageId }),
    );
  }

  close(): Promise<void> {
    return this.#nc.drain();
  }
}

/**
 * Calls `publish(n)` for n = 0 … count-1 at `rate` per second on a fixed schedule from the
 * first call; a late timer catches up with a burst, so the count per second holds. At an
 * infinite rate all of them go at once.
 */
export async function atRate(
  count: number,
  rate: number,
  publish: (n: number) => void,
): Promise<void> {
  if (rate === Number.POSITIVE_INFINITY) {
    for (let n = 0; n < count; n++) publish(n);
    return;
  }
  const start = performance.now();
  let next = 0;
  while (next < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (next < due) publish(next++);
    if (next < count) await sleep(Math.max(0, start + (next * 1000) / rate - performance.now()));
  }
}

/** The pace of a cell's publishing: its rate, or all at once for a burst. */
export const paceOf = (spec: { rate: number; burst?: boolean }): number =>
  spec.burst ? Number.POSITIVE_INFINITY : spec.rate;

/** Events published in `ms` at the cell's pace: a burst is the same events whatever the time. */
export const eventsIn = (spec: { rate: number; burst?: boolean }, ms: number): number =>
  spec.burst ? spec.rate : Math.round((spec.rate * ms) / 1000);

/** Publishing that runs on its own at a steady rate until stopped. */
export interface SteadyPublishing {
  /** Events published so far. */
  readonly count: number;
  /** What stopped publishing before `stop()` was called, if anything did. */
  readonly failure: Error | undefined;
  /** Resolves once `count` events have gone out; rejects if publishing stopped short of it. */
  reached(count: number): Promise<void>;
  /** Stops after the event being published, if any; rejects with what ended it early. */
  stop(): Promise<void>;
}

/**
 * Calls `publish(n)` for n = 0, 1, … at `rate` per second on a fixed schedule, as `atRate`
 * does, until `stop()`. More than `limit` events is an error: the run has taken longer than
 * its seed messages allow.
 */
export function publishSteadily(
  rate: number,
  limit: number,
  publish: (n: number) => void,
): SteadyPublishing {
  let count = 0;
  let stopped = false;
  let failure: Error | undefined;
  let waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  const settle = (): void => {
    waiters = waiters.filter((waiter) => {
      if (count >= waiter.count) waiter.resolve();
      else if (stopped) waiter.reject(failure ?? new Error(`publishing stopped at ${count}`));
      else return true;
      return false;
    });
  };
  const loop = (async () => {
    const start = performance.now();
    while (!stopped) {
      const due = Math.floor(((performance.now() - start) * rate) / 1000) + 1;
      while (count < due && !stopped) {
        if (count >= limit)
          throw new Error(`out of events after ${limit}: the run took longer than planned`);
        publish(count++);
        settle();
      }
      await sleep(Math.max(0, start + (count * 1000) / rate - performance.now()));
    }
  })().catch((error: unknown) => {
    failure = error as Error;
    stopped = true;
    settle();
  });
  return {
    get count() {
      return count;
    },
    get failure() {
      return failure;
    },
    reached: (wanted) =>
      new Promise((resolve, reject) => {
        waiters.push({ count: wanted, resolve, reject });
        settle();
      }),
    async stop() {
      stopped = true;
      await loop;
      settle();
      if (failure) throw failure;
    },
  };
}
