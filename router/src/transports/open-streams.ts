/**
 * The SSE and multipart subscriptions streaming now, so that a router that stops can end
 * them: each is ended without its closing event, which tells the client to reconnect (an
 * `EventSource` does by itself, with `Last-Event-ID`), to another router. A stream that
 * starts once they have been ended (its request waited for its turn) is ended at once.
 */
export class OpenStreams {
  readonly #ends = new Set<() => void>();
  #ended = false;

  get size(): number {
    return this.#ends.size;
  }

  /** Registers a stream's `end`; the returned function unregisters it. */
  add(end: () => void): () => void {
    if (this.#ended) {
      end();
      return () => {};
    }
    this.#ends.add(end);
    return () => void this.#ends.delete(end);
  }

  endAll(): void {
    this.#ended = true;
    for (const end of [...this.#ends]) end();
    this.#ends.clear();
  }
}
