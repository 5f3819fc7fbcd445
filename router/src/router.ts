import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryPlanner } from '@apollo/query-planner';
import type { RouterConfig } from './config.js';
import { identifyAnonymous } from './auth/caller.js';
import { forwardHeaders } from './auth/forwarded-headers.js';
import { createCore } from './core.js';
import { countInto, createCounters, type Counters } from './counters.js';
import { EventHub } from './events/event-hub.js';
import { bindEventFields, type EventField } from './events/event-field.js';
import { exampleOperation } from './events/example-operation.js';
import { createServiceMap } from './execution/data-sources.js';
import { createExecutor } from './execution/executor.js';
import { OperationCache } from './execution/operation.js';
import { combineInstrumentation, type Instrumentation } from './instrumentation.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './observability/metrics.js';
import { connectNats, NATS_SUBJECT_SYNTAX } from './providers/nats.js';
import { composeSupergraph, configSources } from './schema/compose.js';
import { loadEventsGraph } from './schema/events-graph.js';
import { loadSupergraph, readSupergraphFile } from './schema/supergraph.js';
import { attachWebSockets } from './transports/websocket.js';
import { createHttpListener } from './transports/http.js';
import { OpenStreams } from './transports/open-streams.js';

export interface RouterOptions {
  config: RouterConfig;
  /** @default a pino logger on stdout at `LOG_LEVEL` (info) */
  logger?: Logger;
}

export interface Router {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  readonly port: number;
  readonly counters: Readonly<Counters>;
  /** Subjects the router is subscribed to on the broker now. */
  readonly subjects: number;
  /** Client subscriptions open now. */
  readonly subscriptions: number;
  /** Distinct (operation, variables, subject) groups now: one resolution per event each. */
  readonly groups: number;
  /** Ends client connections, unsubscribes from the broker, stops listening. */
  close(): Promise<void>;
}

/** Composes (or loads) the supergraph, connects to NATS and starts listening. */
export async function createRouter({
  config,
  logger = createLogger(),
}: RouterOptions): Promise<Router> {
  const supergraphSdl = config.supergraph
    ? readSupergraphFile(config.supergraph)
    : composeSupergraph(configSources(config));
  const schema = loadSupergraph(supergraphSdl, config.events.name);
  const eventsGraph = loadEventsGraph(schema, config.events, logger);
  const eventFields: ReadonlyMap<string, EventField> = eventsGraph
    ? bindEventFields(eventsGraph, schema.apiGraphQLSchema, config.events.name, NATS_SUBJECT_SYNTAX)
    : new Map();

  const provider = connectNats({
    url: config.nats.url,
    logger,
    streams: config.nats.streams,
    requiredStreams: [...eventFields.values()].flatMap(({ name, stream, topic }) =>
      stream ? [{ field: `Subscription.${name}`, stream, pattern: topic.pattern }] : [],
    ),
  });
  await provider.firstAttempt;
  const counters = createCounters();
  // Reported once, counted twice: into `counters` (tests, bench) and into `/metrics`.
  const metrics = config.metrics.enabled
    ? createMetrics({
        fields: eventFields.keys(),
        subgraphs: schema.subgraphUrls.keys(),
        brokerSubjects: (): number => hub.subjects,
      })
    : undefined;
  const instrumentation: Instrumentation = metrics
    ? combineInstrumentation(countInto(counters), metrics)
    : countInto(counters);
  const hub = new EventHub({
    provider,
    logger,
    instrumentation,
    maxResolutionsInFlight: config.maxResolutionsInFlight,
    maxReplayResolutionsInFlight: config.maxReplayResolutionsInFlight,
    maxReplaysInFlight: config.maxReplaysInFlight,
    maxPendingEventsPerGroup: config.maxPendingEventsPerGroup,
  });
  const core = createCore({
    schema: schema.apiGraphQLSchema,
    operations: new OperationCache({
      schema,
      planner: new QueryPlanner(schema.supergraph),
      eventFields,
      limits: config.limits,
    }),
    executor: createExecutor({
      schema,
      logger,
      serviceMap: createServiceMap({
        urls: schema.subgraphUrls,
        eventsGraph: config.events.name,
        timeoutMs: config.subgraphTimeoutMs,
        batchWindowMs: config.batchWindowMs,
        maxBatchRepresentations: config.batchMaxRepresentations,
        logger,
        instrumentation,
      }),
    }),
    hub,
    logger,
    identify: forwardHeaders(identifyAnonymous, config.headers.forward),
    instrumentation,
    slowSubscriberLimit: config.slowSubscriberLimit,
    slowSubscriberMaxBytes: config.slowSubscriberMaxBytes,
  });

  const open = new OpenStreams();
  let draining = false;
  const server = createServer(
    createHttpListener({
      core,
      logger,
      open,
      ready: () => ({
        ready: !draining && provider.isConnected(),
        nats: provider.isConnected() ? 'connected' : 'disconnected',
        ...(draining ? { draining: true } : {}),
      }),
      health: () => ({
        healthy: provider.isConnected(),
        nats: provider.isConnected() ? 'connected' : 'disconnected',
      }),
      maxPayloadBytes: config.maxPayloadBytes,
      sseHeartbeatMs: config.sseHeartbeatMs,
      multipartHeartbeatMs: config.multipartHeartbeatMs,
      graphiql: config.graphiql,
      graphiqlDefaultQuery: exampleOperation(schema.apiGraphQLSchema, eventFields),
      instrumentation,
      metrics: metrics && { path: config.metrics.path, scrape: () => metrics.scrape() },
    }),
  );
  const ws = attachWebSockets({
    core,
    server,
    logger,
    instrumentation,
    maxPayloadBytes: config.maxPayloadBytes,
    connectionInitTimeoutMs: config.connectionInitTimeoutMs,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, resolve);
    });
  } catch (error) {
    await Promise.all([ws.close(), provider.close()]);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `http://${host}:${port}/graphql`;
  logger.info(
    { url, subgraphs: [...schema.subgraphUrls.keys()], events: [...eventFields.keys()] },
    'router listening',
  );

  return {
    url,
    port,
    counters,
    get subjects() {
      return hub.subjects;
    },
    get subscriptions() {
      return hub.subscribers;
    },
    get groups() {
      return hub.groups;
    },
    async close() {
      // Readiness first, so load balancers stop sending new clients here.
      draining = true;
      const { delayMs, graceMs } = config.shutdown;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Streaming clients are told to go elsewhere; their subscriptions end here.
      open.endAll();
      await ws.close();
      // Queries and mutations in flight get the grace period to finish.
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(cut);
      await provider.close();
      logger.info('router stopped');
    },
  };
}
