import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The heap in use after full garbage collections, for tests that check memory returns to a
 * baseline. The router runs in the test's process, so this is the router's heap plus the
 * test's own (small, and much the same before and after).
 */
export async function heapUsedAfterGc(): Promise<number> {
  // `gc` is exposed to contexts created after the flag is set, without restarting Node.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    // Let finalizers and weak callbacks queued by the collection run before the next one.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
