/**
 * An async iterator fed by pushes: what a transport pulls one subscription's results from.
 * `return()` (the client left) runs `onReturn` once, so the subscription is released.
 */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  readonly #values: T[] = [];
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  #done = false;
  #onEnd: (() => void) | undefined;
  readonly #onReturn: () => void;

  constructor(onReturn: () => void) {
    this.#onReturn = onReturn;
  }

  /** Values buffered for a consumer that has not pulled them yet. */
  get size(): number {
    return this.#values.length;
  }

  push(value: T): void {
    if (this.#done) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value, done: false });
    else this.#values.push(value);
  }

  /** Ends the iteration after the buffered values; `onEnd` runs when the consumer gets there. */
  end(onEnd?: () => void): void {
    if (this.#done) return;
    this.#done = true;
    this.#onEnd = onEnd;
    if (this.#waiting.length > 0) this.#finish();
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.#values.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#done) {
      this.#finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #finish(): void {
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#done) this.#onReturn();
    this.#values.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
