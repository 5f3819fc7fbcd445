import { ErrorCode } from 'nats';

/** Told before each new attempt JetStream did not answer: why, and in how long. */
export type Retrying = (error: unknown, inMs: number) => void;

/**
 * The waits before each new attempt JetStream did not answer: with its requests' own 5 s
 * timeout, it gives up after about a minute.
 */
const RETRY_MS = [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000];

/**
 * `attempt`, asked again while JetStream does not answer it (a server frozen, a cluster
 * electing its leader), rather than failing every client asking then; any other error, the
 * last timeout, or one once `stopped()` is thrown. The waits are unref'd: a router stopping
 * meanwhile exits at once.
 */
export async function untilAnswered<T>(
  attempt: () => Promise<T>,
  retrying: Retrying,
  stopped: () => boolean = () => false,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const inMs = RETRY_MS[tries];
      if (stopped() || inMs === undefined || !isUnanswered(error)) throw error;
      retrying(error, inMs);
      await new Promise((resolve) => setTimeout(resolve, inMs).unref());
      if (stopped()) throw error;
    }
  }
}

/** JetStream did not answer (a timeout, or no server to answer): asking again may work. */
function isUnanswered(error: unknown): boolean {
  const { code } = error as { code?: unknown };
  return code === ErrorCode.Timeout || code === ErrorCode.NoResponders;
}
