import { noopTrace, type FieldInstrumentation, type Instrumentation } from './instrumentation.js';

/** What the router counts, for logs, tests and benchmarks; `/metrics` has the same and more. */
export interface Counters {
  /** Broker messages received on subscribed subjects. */
  eventsReceived: number;
  /** Of those, the ones refused as INVALID_EVENT. */
  eventsInvalid: number;
  /** Results handed to subscribers (one per subscriber per event). */
  deliveries: number;
  /** HTTP requests sent to subgraphs, after batching. */
  subgraphRequests: number;
  /** Subscribers dropped because they did not keep up. */
  slowSubscriberCloses: number;
  /** Events a fan-out group dropped because too many were waiting (`maxPendingEventsPerGroup`). */
  eventsDropped: number;
  /** Gaps told to subscribers as EVENTS_MISSED, once per subject. */
  eventGaps: number;
  /** Subscriptions refused over `maxSubscriptionsPerConnection` or `maxSubscriptions`. */
  subscriptionsRefused: number;
  /** Connections and streams refused over `maxConnections`, and requests from a refused `Origin`. */
  connectionsRefused: number;
}

export function createCounters(): Counters {
  return {
    eventsReceived: 0,
    eventsInvalid: 0,
    deliveries: 0,
    subgraphRequests: 0,
    slowSubscriberCloses: 0,
    eventsDropped: 0,
    eventGaps: 0,
    subscriptionsRefused: 0,
    connectionsRefused: 0,
  };
}

/** Instrumentation that adds up into `counters`, across every field and label. */
export function countInto(counters: Counters): Instrumentation {
  const noop = (): void => {};
  const field: FieldInstrumentation = {
    eventReceived: () => void counters.eventsReceived++,
    eventInvalid: () => void counters.eventsInvalid++,
    eventDropped: () => void counters.eventsDropped++,
    eventGap: () => void counters.eventGaps++,
    delivered: (count) => void (counters.deliveries += count),
    eventDelivered: noop,
    slowSubscriberClosed: () => void counters.slowSubscriberCloses++,
    subscriptionOpened: noop,
    subscriptionClosed: noop,
    resolutionStarted: () => noopTrace,
  };
  return {
    field: () => field,
    subscriptionRefused: () => void counters.subscriptionsRefused++,
    connectionRefused: () => void counters.connectionsRefused++,
    subgraphRequestFinished: () => void counters.subgraphRequests++,
    httpRequestFinished: noop,
    requestStarted: () => noopTrace,
  };
}
