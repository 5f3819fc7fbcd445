/**
 * The SSE and multipart subscriptions streaming now, so that a router that stops can end
 * them: each is ended without its closing event, which tells the client to reconnect (an
 * `EventSource` does by itself, with `Last-Event-ID`), to another router.
 */
export class OpenStreams {
  readonly #ends = new Set<() => void>();

  get size(): number {
    return this.#ends.size;
  }

  /** Registers a stream's `end`; the returned function unregisters it. */
  add(end: () => void): () => void {
    this.#ends.add(end);
    return () => void this.#ends.delete(end);
  }

  endAll(): void {
    for (const end of [...this.#ends]) end();
    this.#ends.clear();
  }
}
