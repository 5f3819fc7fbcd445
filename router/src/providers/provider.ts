import type { ProviderError } from '../errors.js';

/**
 * What the router needs of a message broker: live subscriptions to subjects, replay of a
 * subject's stored messages where the broker stores them, and its subject syntax.
 */
export interface EventProvider {
  /** Short name for logs and errors, e.g. `nats`. */
  readonly name: string;
  /** What a subject on this broker may hold. */
  readonly syntax: SubjectSyntax;
  /**
   * Delivers the messages published on `subject` from now on. With `stream`, they are read
   * from that stream and each carries its position; the subscription then survives broker
   * restarts without losing a message.
   */
  subscribe(
    subject: string,
    handlers: SubscriptionHandlers,
    options?: { stream?: string | undefined },
  ): ProviderSubscription;
  /**
   * The messages stored on `subject` after a position (or only the last one), up to the
   * last one stored when the replay starts. Rejects with `StreamPositionGoneError` when
   * the stream no longer holds the messages right after `after`.
   */
  replay(request: ReplayRequest): AsyncIterableIterator<StoredMessage>;
  /** Calls `listener` each time the connection comes back after it was lost. */
  onReconnect(listener: () => void): void;
  /** Whether events can flow now (for `/health`). */
  isConnected(): boolean;
  /** Stops every subscription and closes the connection. */
  close(): Promise<void>;
}

export interface SubscriptionHandlers {
  /** One message; `position` is its place in the stream, for stream subscriptions. */
  onMessage(data: Uint8Array, position?: number): void;
  /** The broker ended the subscription (e.g. a permission was refused). */
  onError(error: ProviderError): void;
  /** The broker now delivers every message published (a stream's consumer exists). */
  onReady?(): void;
}

export interface ProviderSubscription {
  unsubscribe(): void;
}

export interface ReplayRequest {
  readonly stream: string;
  readonly subject: string;
  /** Replay the messages after this position, or only the last one stored. */
  readonly after: number | 'last';
}

export interface StoredMessage {
  readonly data: Uint8Array;
  readonly position: number;
}

/**
 * What a broker accepts as a subject, for the values clients put into one. Each provider
 * states its own; topic templates check every rendered value against it.
 */
export interface SubjectSyntax {
  /** Whether `value` may stand as one subject token. */
  isToken(value: string): boolean;
  /** The rule `isToken` applies, for error messages: "1 to 128 ASCII letters…". */
  readonly tokenRule: string;
  /** The longest subject, in bytes, the router will subscribe to. */
  readonly maxSubjectBytes: number;
}
