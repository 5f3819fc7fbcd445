/**
 * Where streams stand (the sequence the next stored message will get), read for many
 * subscriptions at once: a crowd subscribing to a stream's subjects asks in one burst, and
 * one read answers every caller that asked before it was sent. A caller that asks while a
 * read is on its way waits for the next one, since that read may have been answered before
 * the caller asked: so a subscription never starts before where the stream stood when it
 * asked, and nothing stored after that is skipped.
 */
export class StreamHeads<Head> {
  /** Per stream, the read on its way and the one queued behind it. */
  readonly #reads = new Map<string, { sent: Promise<Head>; next?: Promise<Head> }>();

  constructor(private readonly read: (stream: string) => Promise<Head>) {}

  /** Where `stream` stands (the sequence its next message will get…), read after this call. */
  next(stream: string): Promise<Head> {
    const reads = this.#reads.get(stream);
    if (!reads) return this.#send(stream);
    return (reads.next ??= reads.sent.then(
      () => this.#send(stream),
      () => this.#send(stream),
    ));
  }

  #send(stream: string): Promise<Head> {
    const entry: { sent: Promise<Head>; next?: Promise<Head> } = { sent: this.read(stream) };
    this.#reads.set(stream, entry);
    const settled = (): void => {
      if (this.#reads.get(stream) === entry && !entry.next) this.#reads.delete(stream);
    };
    entry.sent.then(settled, settled);
    return entry.sent;
  }
}
