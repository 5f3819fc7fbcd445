/**
 * Waits until `check` holds, for state no event announces (a broker's subscription count).
 * Polls every 10 ms; fails with `what` after `timeoutMs`.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10)); // a poll interval, not a wait for an event
  }
}
