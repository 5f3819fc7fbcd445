import type { GraphQLDataSource } from '@apollo/gateway';

/** A subgraph fetch was not answered within its deadline, time spent queued included. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/**
 * Fails a fetch that has not settled `timeoutMs` after the executor asked for it. A timeout
 * on the HTTP request starts only when the request is sent, so an entity fetch queued
 * behind a batch in flight could otherwise take about twice as long.
 */
export function withDeadline(source: GraphQLDataSource, timeoutMs: number): GraphQLDataSource {
  return {
    process: (options) =>
      raceDeadline(
        () => source.process(options),
        timeoutMs,
        () => new DeadlineExceededError(timeoutMs),
      ),
  };
}

/**
 * What `work` settles with, or the error `timedOut` makes if it has not settled within
 * `timeoutMs`; a `work` that throws at once rejects, and leaves no timer behind.
 */
export async function raceDeadline<T>(
  work: () => Promise<T>,
  timeoutMs: number,
  timedOut: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), timeoutMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
