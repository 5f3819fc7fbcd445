/**
 * Work allowed in one turn of the event loop: past it, callers wait for a later turn, in
 * the order they came, so that I/O (broker messages, subgraph answers, the live fan-out)
 * runs between. A caller takes its whole cost at once, so a turn lets at least one caller
 * through, however large its cost.
 */
export class TurnBudget {
  #spent = 0;
  #renewing = false;
  readonly #waiting: { readonly cost: number; readonly resolve: () => void }[] = [];

  constructor(readonly perTurn: number) {
    if (!Number.isInteger(perTurn) || perTurn < 1) {
      throw new RangeError(`perTurn must be a positive integer, not ${perTurn}`);
    }
  }

  /** Settles once `cost` has been taken from a turn's budget: at once if it fits now. */
  take(cost: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(cost)) {
      this.#spend(cost);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiting.push({ cost, resolve }));
  }

  #fits(cost: number): boolean {
    return this.#spent === 0 || this.#spent + cost <= this.perTurn;
  }

  #spend(cost: number): void {
    this.#spent += cost;
    if (this.#renewing) return;
    this.#renewing = true;
    setImmediate(() => this.#renew());
  }

  #renew(): void {
    this.#renewing = false;
    this.#spent = 0;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.cost)) {
      const next = this.#waiting.shift()!;
      this.#spend(next.cost);
      next.resolve();
    }
  }
}
