/**
 * The one seam through which the hub, the executor and the transports report what they
 * do. Metrics, counters and (later) tracing implement it; the callers know nothing of
 * Prometheus or OTel. Every label value a hook takes comes from a fixed set (the schema's
 * bound fields, the supergraph's subgraphs, the unions below), never from a client.
 */

/** How a client's subscription reaches it. */
export type TransportName = 'graphql-ws' | 'legacy-ws' | 'sse' | 'multipart';

/** How one subgraph request ended. */
export type SubgraphOutcome = 'ok' | 'graphql_error' | 'http_error' | 'timeout' | 'error';

/** The operation type of a GraphQL-over-HTTP request; `unknown` when it was never parsed. */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

/**
 * How a GraphQL-over-HTTP request ended: executed without errors, executed with errors,
 * refused before execution (bad request, invalid operation), or failed in the router.
 */
export type HttpOutcome = 'ok' | 'errors' | 'refused' | 'failed';

/** Which cap refused a subscription: the config option's name, in snake case. */
export type SubscriptionRefusal = 'max_subscriptions_per_connection' | 'max_subscriptions';

/**
 * Why a connection, stream or cross-origin request was refused: over `maxConnections`, or
 * from an `Origin` that `cors.origins` does not allow.
 */
export type ConnectionRefusal = 'max_connections' | 'origin';

/**
 * Hooks for one subscription field. The hub resolves them once per fan-out group, so the
 * per-event path does no label lookups.
 */
export interface FieldInstrumentation {
  /** A broker message arrived on a subject this field opened. */
  eventReceived(): void;
  /** It was refused as INVALID_EVENT. */
  eventInvalid(): void;
  /** A fan-out group dropped it (`maxPendingEventsPerGroup`). */
  eventDropped(): void;
  /** Results handed to `count` subscribers at once (one group, one event or notice). */
  delivered(count: number): void;
  /** An event's results reached the last subscriber of a group, `seconds` after it arrived. */
  eventDelivered(seconds: number): void;
  /** A subscriber that did not keep up was dropped. */
  slowSubscriberClosed(): void;
  subscriptionOpened(transport: TransportName): void;
  subscriptionClosed(transport: TransportName): void;
}

export interface Instrumentation {
  /** The hooks for a `Subscription` field bound to events, by its name. */
  field(name: string): FieldInstrumentation;
  /** A subscription was refused over a cap. */
  subscriptionRefused(reason: SubscriptionRefusal): void;
  /** A connection, stream or cross-origin request was refused. */
  connectionRefused(reason: ConnectionRefusal): void;
  /** One HTTP request to a subgraph (after batching) ended. */
  subgraphRequestFinished(subgraph: string, outcome: SubgraphOutcome, seconds: number): void;
  /** One GraphQL-over-HTTP request (query or mutation, not a stream) was answered. */
  httpRequestFinished(operation: OperationType, outcome: HttpOutcome, seconds: number): void;
}

const noop = (): void => {};

const noopField: FieldInstrumentation = {
  eventReceived: noop,
  eventInvalid: noop,
  eventDropped: noop,
  delivered: noop,
  eventDelivered: noop,
  slowSubscriberClosed: noop,
  subscriptionOpened: noop,
  subscriptionClosed: noop,
};

/** Reports nothing: the default where no one listens (unit tests, tools). */
export const noopInstrumentation: Instrumentation = {
  field: () => noopField,
  subscriptionRefused: noop,
  connectionRefused: noop,
  subgraphRequestFinished: noop,
  httpRequestFinished: noop,
};

/** Reports to each of `targets` in turn. */
export function combineInstrumentation(...targets: readonly Instrumentation[]): Instrumentation {
  if (targets.length === 1) return targets[0]!;
  const byField = new Map<string, FieldInstrumentation>();
  return {
    field(name) {
      const known = byField.get(name);
      if (known) return known;
      const fields = targets.map((target) => target.field(name));
      const combined: FieldInstrumentation = {
        eventReceived: () => fields.forEach((f) => f.eventReceived()),
        eventInvalid: () => fields.forEach((f) => f.eventInvalid()),
        eventDropped: () => fields.forEach((f) => f.eventDropped()),
        delivered: (count) => fields.forEach((f) => f.delivered(count)),
        eventDelivered: (seconds) => fields.forEach((f) => f.eventDelivered(seconds)),
        slowSubscriberClosed: () => fields.forEach((f) => f.slowSubscriberClosed()),
        subscriptionOpened: (transport) => fields.forEach((f) => f.subscriptionOpened(transport)),
        subscriptionClosed: (transport) => fields.forEach((f) => f.subscriptionClosed(transport)),
      };
      byField.set(name, combined);
      return combined;
    },
    subscriptionRefused: (reason) => targets.forEach((t) => t.subscriptionRefused(reason)),
    connectionRefused: (reason) => targets.forEach((t) => t.connectionRefused(reason)),
    subgraphRequestFinished: (subgraph, outcome, seconds) =>
      targets.forEach((t) => t.subgraphRequestFinished(subgraph, outcome, seconds)),
    httpRequestFinished: (operation, outcome, seconds) =>
      targets.forEach((t) => t.httpRequestFinished(operation, outcome, seconds)),
  };
}

/** Seconds since `start`, a `performance.now()` reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
