/**
 * The one seam through which the hub, the executor and the transports report what they
 * do. Metrics, counters and tracing implement it; the callers know nothing of
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

/** The steps of a GraphQL-over-HTTP request that get a span of their own. */
export type PhaseName = 'parse' | 'validate' | 'plan' | 'execute';

/** Span attributes; callers set keys from a fixed set, in code. */
export type TraceAttributes = Readonly<Record<string, string | number | boolean>>;

/** What a GraphQL-over-HTTP request brings for tracing: its method and W3C trace context. */
export interface IncomingTrace {
  readonly method: string;
  /** The client's `traceparent` header: its span becomes the request's parent. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/**
 * One traced unit of work: a request, one of its phases, an event's resolution. Untraced
 * (tracing off, or not sampled) it is `noopTrace`, whose calls do nothing and allocate
 * nothing, so callers always call it.
 */
export interface Trace {
  /** A step of this one, started now; end it when the step is done. */
  phase(name: PhaseName): Trace;
  /** One fetch from a subgraph under this one, started now (before batching). */
  fetch(subgraph: string): FetchTrace;
  annotate(attributes: TraceAttributes): void;
  /** `failed`: it ended in an error the router did not expect. */
  end(failed?: boolean): void;
}

/** The trace of one fetch from a subgraph, as the executor made it. */
export interface FetchTrace {
  /**
   * W3C headers (`traceparent`, `tracestate`) that make the subgraph's spans children of
   * this fetch; empty when untraced.
   */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * It went out merged into one request with others (`size` fetches in all); the
   * request carried `first`'s headers.
   */
  batched(first: FetchTrace, size: number): void;
  end(outcome: SubgraphOutcome): void;
}

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
  /**
   * Events of a subject this field opened may not have reached the router (the broker
   * connection was down, and the field reads no stream): its subscribers get EVENTS_MISSED.
   */
  eventGap(): void;
  /** Results handed to `count` subscribers at once (one group, one event or notice). */
  delivered(count: number): void;
  /** An event's results reached the last subscriber of a group, `seconds` after it arrived. */
  eventDelivered(seconds: number): void;
  /** A subscriber that did not keep up was dropped. */
  slowSubscriberClosed(): void;
  subscriptionOpened(transport: TransportName): void;
  subscriptionClosed(transport: TransportName): void;
  /** One fan-out group began resolving one event (the tracer samples these). */
  resolutionStarted(): Trace;
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
  /** A GraphQL-over-HTTP request (query or mutation, not a stream) arrived. */
  requestStarted(incoming: IncomingTrace): Trace;
}

const noop = (): void => {};

const noopFetchTrace: FetchTrace = { headers: {}, batched: noop, end: noop };

/** The trace of work nobody traces. */
export const noopTrace: Trace = {
  phase: () => noopTrace,
  fetch: () => noopFetchTrace,
  annotate: noop,
  end: noop,
};

const noopField: FieldInstrumentation = {
  eventReceived: noop,
  eventInvalid: noop,
  eventDropped: noop,
  eventGap: noop,
  delivered: noop,
  eventDelivered: noop,
  slowSubscriberClosed: noop,
  subscriptionOpened: noop,
  subscriptionClosed: noop,
  resolutionStarted: () => noopTrace,
};

/** Reports nothing: the default where no one listens (unit tests, tools). */
export const noopInstrumentation: Instrumentation = {
  field: () => noopField,
  subscriptionRefused: noop,
  connectionRefused: noop,
  subgraphRequestFinished: noop,
  httpRequestFinished: noop,
  requestStarted: () => noopTrace,
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
        eventGap: () => fields.forEach((f) => f.eventGap()),
        delivered: (count) => fields.forEach((f) => f.delivered(count)),
        eventDelivered: (seconds) => fields.forEach((f) => f.eventDelivered(seconds)),
        slowSubscriberClosed: () => fields.forEach((f) => f.slowSubscriberClosed()),
        subscriptionOpened: (transport) => fields.forEach((f) => f.subscriptionOpened(transport)),
        subscriptionClosed: (transport) => fields.forEach((f) => f.subscriptionClosed(transport)),
        resolutionStarted: () => startAll(fields, (f) => f.resolutionStarted()),
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
    requestStarted: (incoming) => startAll(targets, (t) => t.requestStarted(incoming)),
  };
}

/**
 * The traces `start` makes of `targets` that trace something, as one; `noopTrace` when none
 * does (tracing off). Allocates nothing then: it runs once per event and group.
 */
function startAll<T>(targets: readonly T[], start: (target: T) => Trace): Trace {
  let one: Trace | undefined;
  let many: Trace[] | undefined;
  for (const target of targets) {
    const trace = start(target);
    if (trace === noopTrace) continue;
    if (one === undefined) one = trace;
    else (many ??= [one]).push(trace);
  }
  return many ? combineTraces(many) : (one ?? noopTrace);
}

function combineTraces(live: readonly Trace[]): Trace {
  return {
    phase: (name) => startAll(live, (t) => t.phase(name)),
    fetch: (subgraph) => combineFetchTraces(live.map((t) => t.fetch(subgraph))),
    annotate: (attributes) => live.forEach((t) => t.annotate(attributes)),
    end: (failed) => live.forEach((t) => t.end(failed)),
  };
}

function combineFetchTraces(fetches: readonly FetchTrace[]): FetchTrace {
  const live = fetches.filter((fetch) => fetch !== noopFetchTrace);
  if (live.length <= 1) return live[0] ?? noopFetchTrace;
  return {
    headers: Object.assign({}, ...live.map((f) => f.headers)) as Record<string, string>,
    // A tracer finds no span of its own in a combined `first`: it records no link then.
    batched: (first, size) => live.forEach((f) => f.batched(first, size)),
    end: (outcome) => live.forEach((f) => f.end(outcome)),
  };
}

/** Seconds since `start`, a `performance.now()` reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
