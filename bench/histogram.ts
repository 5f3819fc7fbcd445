/** Latencies in constant memory: log buckets 1% wide from 10 µs, exact max and count. */
export class Histogram {
  static readonly #base = 0.01;
  static readonly #growth = Math.log(1.01);
  readonly #buckets = new Uint32Array(2000); // up to 0.01 ms × 1.01^2000 ≈ 73 minutes
  #count = 0;
  #max = 0;
  #sum = 0;

  record(ms: number): void {
    const value = Math.max(ms, 0);
    const index =
      value <= Histogram.#base
        ? 0
        : Math.ceil(Math.log(value / Histogram.#base) / Histogram.#growth);
    this.#buckets[Math.min(index, this.#buckets.length - 1)]! += 1;
    this.#count += 1;
    this.#sum += value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  /** The value at quantile `q` (0..1), to within 1%; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank)
        return Math.min(Histogram.#base * Math.exp(i * Histogram.#growth), this.#max);
    }
    return this.#max;
  }

  summary(): LatencySummary {
    return {
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      max: this.#max,
      mean: this.#count ? this.#sum / this.#count : 0,
    };
  }
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}
