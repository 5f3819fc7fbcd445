/**
 * What a transport holds for one subscription: an async iterator that yields nothing (the
 * results go to the transport's sink as they come) and finishes when the subscription
 * ends. `return()`, the client leaving, runs `onReturn` once; however it ends, `onEnd` runs
 * once.
 */
export class SubscriptionLifetime<T> implements AsyncIterableIterator<T> {
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  readonly #onReturn: () => void;
  readonly #onEnd: (() => void) | undefined;
  #ended = false;

  constructor(onReturn: () => void, onEnd?: () => void) {
    this.#onReturn = onReturn;
    this.#onEnd = onEnd;
  }

  get ended(): boolean {
    return this.#ended;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd?.();
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) this.#onReturn();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
