import type { ProviderError } from '../errors.js';

/** What the router needs of a message broker: subscribe to a subject, and stop. */
export interface EventProvider {
  /** Short name for logs and errors, e.g. `nats`. */
  readonly name: string;
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
