import type { Logger } from './logger.js';

/**
 * How many lines of one kind the log takes per interval. What clients and publishers can
 * cause at will (an invalid event, a refused subscription) would otherwise write a line
 * each, as fast as they can send: 10,000 bad events, 10,000 lines. The first `perInterval`
 * lines of a kind in an interval are written; the others are only counted, and the next
 * line of that kind written says how many were left out (metrics count every one).
 */
export class LogBudget {
  readonly #kinds = new Map<string, { since: number; written: number; skipped: number }>();

  constructor(
    private readonly perInterval = 10,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `undefined` if this line of `kind` is left out; otherwise how many of its kind were
   * left out since the last one written (0: none). Kinds are the caller's fixed names.
   */
  take(kind: string): { skipped: number } | undefined {
    const now = this.now();
    let state = this.#kinds.get(kind);
    if (!state || now - state.since >= this.intervalMs) {
      state = { since: now, written: 0, skipped: state?.skipped ?? 0 };
      this.#kinds.set(kind, state);
    }
    if (state.written >= this.perInterval) {
      state.skipped++;
      return undefined;
    }
    state.written++;
    const { skipped } = state;
    state.skipped = 0;
    return { skipped };
  }

  /**
   * `logger.warn(fields, message)` if the budget of lines saying `message` (a fixed text)
   * allows it, with `skipped` when lines of it were left out before.
   */
  warn(logger: Logger, fields: Record<string, unknown>, message: string): void {
    const taken = this.take(message);
    if (taken)
      logger.warn(taken.skipped > 0 ? { ...fields, skipped: taken.skipped } : fields, message);
  }
}
