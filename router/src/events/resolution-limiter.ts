/**
 * Caps the event resolutions running at once across the router: past the cap, work waits
 * its turn in arrival order, so a burst of events cannot start thousands of subgraph
 * fetches at the same moment, and every group's events still start in the order they came.
 */
export class ResolutionLimiter {
  readonly #max: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`max must be a positive integer, got ${max}`);
    this.#max = max;
  }

  /** Resolutions running now. */
  get running(): number {
    return this.#running;
  }

  /** Resolutions waiting for a place now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` once fewer than `max` tasks run; settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // The place passes straight to the next in line, so `running` never dips and rises.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
