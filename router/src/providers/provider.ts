import type { ProviderError } from '../errors.js';

/** The brokers the router can read events from. */
export type ProviderKind = 'nats' | 'redis' | 'amqp';

/**
 * What a broker can do beyond live delivery and publishing, so that start-up can refuse a
 * directive (or argument) the field's provider cannot honour.
 */
export interface ProviderCapabilities {
  /**
   * Messages are stored and carry a position: `@eventsSubscribe(stream:, initial:)`,
   * cursors and `replay` work. NATS JetStream has it (a Kafka provider would: offsets are
   * positions); Redis pub/sub and AMQP queues deliver at most once and do not.
   */
  readonly streams: boolean;
  /**
   * A message can be sent as a request that waits for one reply (`@eventsRequest`). NATS
   * has it (a reply subject per request, "no responders" told at once); Redis and AMQP
   * pub/sub do not.
   */
  readonly request: boolean;
}

/** What binding a field needs to know of its provider, before any connection exists. */
export interface ProviderTraits {
  readonly kind: ProviderKind;
  /** What a subject on this broker may hold. */
  readonly syntax: SubjectSyntax;
  readonly capabilities: ProviderCapabilities;
}

/**
 * What the router needs of a message broker: live subscriptions to subjects, replay of a
 * subject's stored messages where the broker stores them, its subject syntax and its health.
 * The core knows brokers only through this; each implementation is one file in `providers/`.
 */
export interface EventProvider extends ProviderTraits {
  /** The provider's id in the config (`default`, `cache`…), for logs and `/health`. */
  readonly id: string;
  /** Short name of the broker for logs and errors, e.g. `nats`. */
  readonly name: string;
  /**
   * Settles after the first attempt to connect, whether it reached the broker or not (the
   * router starts anyway and subscribes once it does); rejects only for a configuration the
   * broker refuses for good (e.g. a JetStream stream that is wrong, an AMQP exchange of
   * another type). Wrong credentials are not that: they may be fixed on the broker's side.
   */
  readonly firstAttempt: Promise<void>;
  /**
   * Delivers the messages published on `subject` from now on. With `stream` (only where
   * `capabilities.streams`), they are read from that stream and each carries its position;
   * the subscription then survives broker restarts without losing a message. The hub calls
   * it once per subject however many clients share it.
   */
  subscribe(
    subject: string,
    handlers: SubscriptionHandlers,
    options?: { stream?: string | undefined },
  ): ProviderSubscription;
  /**
   * The messages stored on `subject` after a position (or only the last one), up to the
   * last one stored when the replay starts. Rejects with `StreamPositionGoneError` when
   * the stream no longer holds the messages right after `after`; a provider without
   * `capabilities.streams` rejects every replay (start-up keeps fields from asking).
   */
  replay(request: ReplayRequest): AsyncIterableIterator<StoredMessage>;
  /**
   * Publishes one message on `subject`. Resolves once the broker has taken it (NATS: a
   * flush; Redis: PUBLISH answered; AMQP: the publisher confirm); rejects with a
   * `ProviderError` at once while the broker is not connected, or when it refuses. The
   * caller bounds how long it waits.
   */
  publish(subject: string, data: Uint8Array): Promise<void>;
  /**
   * Sends `data` on `subject` as a request and resolves with the first reply (only where
   * `capabilities.request`; others reject). Rejects with `NoRespondersError` when nobody
   * listens on the subject, `BrokerTimeoutError` when no reply comes within `timeoutMs`,
   * and `ProviderError` while the broker is not connected.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Calls `listener` each time the connection comes back after it was lost; live
   * (non-stream) subscriptions have then missed what was published meanwhile.
   */
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
  /**
   * The broker now delivers every message published (a stream's consumer exists); for a
   * stream, `from` is the position of the first message it delivers: every one stored at
   * or after it reaches `onMessage`. @default for a stream: not known
   */
  onReady?(from?: number): void;
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
