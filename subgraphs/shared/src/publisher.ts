/**
 * An entity event: the `__typename` and key fields of the entity that changed. The router
 * resolves every other field from the subgraphs, so events stay this small.
 */
export interface EntityEvent {
  __typename: string;
  [field: string]: unknown;
}

/**
 * Where the subgraphs send their events. One implementation per file (`nats-publisher.ts`);
 * tests may supply their own.
 */
export interface EventPublisher {
  /**
   * Sends `event` as JSON to `subject`. Never throws: a resolver that has already stored its
   * change must not fail because the broker did, so failures are logged instead.
   */
  publish(subject: string, event: EntityEvent): void;
  /** Flushes what is pending and closes the connection. */
  close(): Promise<void>;
}
