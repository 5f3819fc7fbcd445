import { GraphQLError } from 'graphql';

/** `setTimeout` fires at once for delays past this (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs `expired` at `expiresAt` (ms since the epoch), however far away, and returns what
 * cancels it. A long wait is a chain of shorter timers, never one that overflows and fires
 * at once.
 */
export function onExpiry(expiresAt: number, expired: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const wait = (): void => {
    const left = expiresAt - Date.now();
    if (left <= 0) {
      timer = undefined;
      return expired();
    }
    timer = setTimeout(wait, Math.min(left, MAX_TIMEOUT_MS));
    timer.unref(); // a subscription never holds a stopping process open
  };
  wait();
  return () => clearTimeout(timer);
}

/** Whether a caller's credentials have expired by now. */
export function hasExpired(expiresAt: number | undefined): boolean {
  return expiresAt !== undefined && expiresAt <= Date.now();
}

/** What a subscription whose caller's token expired gets last. */
export function tokenExpired(): GraphQLError {
  return new GraphQLError('The token has expired; subscribe again with a new one.', {
    extensions: { code: 'TOKEN_EXPIRED' },
  });
}
