import type { ProviderError } from '../errors.js';

/** What the router needs of a message broker: subscribe to a subject, and stop. */
export interface EventProvider {
  /** Short name for logs and errors, e.g. `nats`. */
  readonly name: string;
  /** What a subject on this broker may hold. */
  readonly syntax: SubjectSyntax;
  subscribe(subject: string, handlers: SubscriptionHandlers): ProviderSubscription;
  /** Whether events can flow now (for `/health`). */
  isConnected(): boolean;
  /** Stops every subscription and closes the connection. */
  close(): Promise<void>;
}

export interface SubscriptionHandlers {
  onMessage(data: Uint8Array): void;
  /** The broker ended the subscription (e.g. a permission was refused). */
  onError(error: ProviderError): void;
}

export interface ProviderSubscription {
  unsubscribe(): void;
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
