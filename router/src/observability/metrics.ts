import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  noopTrace,
  type ConnectionRefusal,
  type FieldInstrumentation,
  type HttpOutcome,
  type Instrumentation,
  type OperationType,
  type SubgraphOutcome,
  type SubscriptionRefusal,
  type TransportName,
} from '../instrumentation.js';

export interface MetricsOptions {
  /** The `Subscription` fields bound to events: the only values of the `field` label. */
  fields: Iterable<string>;
  /** The supergraph's subgraphs: the only values of the `subgraph` label. */
  subgraphs: Iterable<string>;
  /** Subjects the router is subscribed to on the broker now, read at each scrape. */
  brokerSubjects(): number;
  /** Each provider's id and whether it is connected now, read at each scrape. */
  brokersConnected(): Iterable<readonly [provider: string, connected: boolean]>;
  /** Collect prom-client's process metrics (CPU, memory, event loop, GC). @default true */
  processMetrics?: boolean;
}

/** How a supergraph reload ended: served, or refused (the previous one goes on). */
export type ReloadOutcome = 'reloaded' | 'refused';
const RELOAD_OUTCOMES: readonly ReloadOutcome[] = ['reloaded', 'refused'];

export interface Metrics extends Instrumentation {
  readonly registry: Registry;
  /** A new supergraph was read: served, or refused. */
  supergraphReload(outcome: ReloadOutcome): void;
  /** Adds the fields and subgraphs of a reloaded supergraph to the label values. */
  admit(labels: Pick<MetricsOptions, 'fields' | 'subgraphs'>): void;
  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

const TRANSPORTS: readonly TransportName[] = ['graphql-ws', 'legacy-ws', 'sse', 'multipart'];
const SUBGRAPH_OUTCOMES: readonly SubgraphOutcome[] = [
  'ok',
  'graphql_error',
  'http_error',
  'timeout',
  'error',
];
const SUBSCRIPTION_REFUSALS: readonly SubscriptionRefusal[] = [
  'max_subscriptions_per_connection',
  'max_subscriptions',
];
const CONNECTION_REFUSALS: readonly ConnectionRefusal[] = ['max_connections', 'origin'];
/** The label for a value outside the fixed set; no hook should ever pass one. */
const OTHER = 'other';
/** From half a millisecond (a local join) to the subgraph timeout's order of magnitude. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The Prometheus metrics behind `GET /metrics`, on a registry of their own (several
 * routers may share a process). Labelled children are resolved once per field, so the
 * hooks on the event path only add to a number.
 */
export function createMetrics({
  fields,
  subgraphs,
  brokerSubjects,
  brokersConnected,
  processMetrics = true,
}: MetricsOptions): Metrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const fieldCounter = (name: string, help: string): Counter<'field'> =>
    new Counter({ name, help, labelNames: ['field'], registers });
  const received = fieldCounter(
    'edfs_events_received_total',
    'Broker messages received on subscribed subjects.',
  );
  const invalid = fieldCounter(
    'edfs_events_invalid_total',
    'Broker messages refused as INVALID_EVENT.',
  );
  const dropped = fieldCounter(
    'edfs_events_dropped_total',
    'Events a fan-out group dropped because too many were waiting (maxPendingEventsPerGroup).',
  );
  const gaps = fieldCounter(
    'edfs_event_gaps_total',
    'Gaps told to subscribers as EVENTS_MISSED: the broker connection came back, and fields without a stream missed what was published meanwhile.',
  );
  const deliveries = fieldCounter(
    'edfs_deliveries_total',
    'Results handed to subscribers, one per subscriber per event.',
  );
  const slowCloses = fieldCounter(
    'edfs_slow_subscriber_closes_total',
    'Subscribers dropped because they did not keep up.',
  );
  const delivery = new Histogram({
    name: 'edfs_event_delivery_seconds',
    help: 'From an event received to its result written to the last subscriber of a fan-out group.',
    labelNames: ['field'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const subscriptions = new Gauge({
    name: 'edfs_subscriptions',
    help: 'Client subscriptions open now.',
    labelNames: ['field', 'transport'],
    registers,
  });
  /** A counter of one label whose values are known: each series there from the start, at 0. */
  const knownLabelCounter = (
    name: string,
    help: string,
    label: string,
    values: readonly string[],
  ): Counter => {
    const counter = new Counter({ name, help, labelNames: [label], registers });
    for (const value of values) counter.labels(value).inc(0);
    return counter;
  };
  const refused = knownLabelCounter(
    'edfs_subscriptions_refused_total',
    'Subscriptions refused over maxSubscriptionsPerConnection or maxSubscriptions.',
    'reason',
    SUBSCRIPTION_REFUSALS,
  );
  const connectionsRefused = knownLabelCounter(
    'edfs_connections_refused_total',
    'Connections and streams refused over maxConnections, and requests from a refused Origin.',
    'reason',
    CONNECTION_REFUSALS,
  );
  new Gauge({
    name: 'edfs_broker_subjects',
    help: 'Subjects the router is subscribed to on the broker now.',
    registers,
    collect() {
      this.set(brokerSubjects());
    },
  });
  new Gauge({
    name: 'edfs_broker_connected',
    help: 'Whether the router is connected to each event provider now (1) or not (0), as /health tells.',
    labelNames: ['provider'],
    registers,
    collect() {
      for (const [provider, connected] of brokersConnected()) {
        this.labels(provider).set(connected ? 1 : 0);
      }
    },
  });
  const reloads = knownLabelCounter(
    'edfs_supergraph_reloads_total',
    'Supergraph reloads that changed something: reloaded (the new one is served) or refused (unreadable or invalid: the previous one goes on).',
    'outcome',
    RELOAD_OUTCOMES,
  );
  const subgraphRequests = new Counter({
    name: 'edfs_subgraph_requests_total',
    help: 'HTTP requests sent to subgraphs, after batching.',
    labelNames: ['subgraph', 'outcome'],
    registers,
  });
  const subgraphDuration = new Histogram({
    name: 'edfs_subgraph_request_duration_seconds',
    help: 'Duration of HTTP requests to subgraphs.',
    labelNames: ['subgraph', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'edfs_http_request_duration_seconds',
    help: 'Duration of GraphQL-over-HTTP requests (queries and mutations; not streams).',
    labelNames: ['operation_type', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const knownSubgraphs = new Set<string>();

  const byField = new Map<string, FieldInstrumentation>();
  const fieldHooks = (field: string): FieldInstrumentation => {
    const counted = (counter: Counter<'field'>) => {
      const child = counter.labels(field);
      child.inc(0); // the series exists, at 0, before anything happens
      return child;
    };
    const [r, i, d, g, n, s] = [received, invalid, dropped, gaps, deliveries, slowCloses].map(
      counted,
    );
    const latency = delivery.labels(field);
    const open = new Map(
      TRANSPORTS.map((transport) => [transport, subscriptions.labels(field, transport)]),
    );
    for (const gauge of open.values()) gauge.set(0);
    return {
      eventReceived: () => r!.inc(),
      eventInvalid: () => i!.inc(),
      eventDropped: () => d!.inc(),
      eventGap: () => g!.inc(),
      delivered: (count) => n!.inc(count),
      eventDelivered: (seconds) => latency.observe(seconds),
      slowSubscriberClosed: () => s!.inc(),
      subscriptionOpened: (transport) => open.get(transport)?.inc(),
      subscriptionClosed: (transport) => open.get(transport)?.dec(),
      resolutionStarted: () => noopTrace,
    };
  };
  const admit: Metrics['admit'] = (labels) => {
    for (const subgraph of labels.subgraphs) {
      if (knownSubgraphs.has(subgraph)) continue;
      knownSubgraphs.add(subgraph);
      for (const outcome of SUBGRAPH_OUTCOMES) subgraphRequests.labels(subgraph, outcome).inc(0);
    }
    for (const field of labels.fields) {
      if (!byField.has(field)) byField.set(field, fieldHooks(field));
    }
  };
  admit({ fields, subgraphs });
  const other = fieldHooks(OTHER);

  return {
    registry,
    admit,
    supergraphReload: (outcome) => reloads.labels(outcome).inc(),
    field: (name) => byField.get(name) ?? other,
    subscriptionRefused: (reason) => refused.labels(reason).inc(),
    connectionRefused: (reason) => connectionsRefused.labels(reason).inc(),
    subgraphRequestFinished(subgraph, outcome, seconds) {
      const label = knownSubgraphs.has(subgraph) ? subgraph : OTHER;
      subgraphRequests.labels(label, outcome).inc();
      subgraphDuration.labels(label, outcome).observe(seconds);
    },
    httpRequestFinished(operation: OperationType, outcome: HttpOutcome, seconds) {
      httpDuration.labels(operation, outcome).observe(seconds);
    },
    requestStarted: () => noopTrace,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
