/** What a subscription's owner does when its lifetime ends. */
export interface LifetimeHooks {
  /** `return()` was called (the client left); runs once, before `onEnd`. */
  onReturn(): void;
  /** However it ended; runs once. */
  onEnd?(): void;
}

/**
 * What a transport holds for one subscription: an async iterator that yields nothing (the
 * results go to the transport's sink as they come) and finishes when the subscription
 * ends, telling its owner's `hooks` (an object, so an owner made per subscription needs
 * no closures).
 */
export class SubscriptionLifetime<T> implements AsyncIterableIterator<T> {
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  readonly #hooks: LifetimeHooks;
  #ended = false;

  constructor(hooks: LifetimeHooks) {
    this.#hooks = hooks;
  }

  get ended(): boolean {
    return this.#ended;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hooks.onEnd?.();
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) this.#hooks.onReturn();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
