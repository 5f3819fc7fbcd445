import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryPlanner } from '@apollo/query-planner';
import { identifyAnonymous } from './auth/caller.js';
import { createJwtIdentify } from './auth/jwt.js';
import { providerConfigs, type RouterConfig } from './config.js';
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
import { createTracing } from './observability/tracing.js';
import { connectProviders, providerTraits } from './providers/connect.js';
import type { EventProvider } from './providers/provider.js';
import { composeSupergraph, configSources } from './schema/compose.js';
import { loadEventsGraph } from './schema/events-graph.js';
import { loadSupergraph, readSupergraphFile } from './schema/supergraph.js';
import { createAdmission } from './transports/admission.js';
import { createCors } from './transports/cors.js';
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
  /** Open WebSocket connections and SSE or multipart streams, as `limits.maxConnections` counts them. */
  readonly connections: number;
  /** Ends client connections, unsubscribes from the broker, stops listening. */
  close(): Promise<void>;
}

/** Composes (or loads) the supergraph, connects to the brokers and starts listening. */
export async function createRouter({
  config,
  logger = createLogger(),
}: RouterOptions): Promise<Router> {
  const supergraphSdl = config.supergraph
    ? readSupergraphFile(config.supergraph)
    : composeSupergraph(configSources(config));
  const schema = loadSupergraph(supergraphSdl, config.events.name);
  const eventsGraph = loadEventsGraph(schema, config.events, logger);
  const configs = providerConfigs(config);
  const eventFields: ReadonlyMap<string, EventField> = eventsGraph
    ? bindEventFields(
        eventsGraph,
        schema.apiGraphQLSchema,
        config.events.name,
        providerTraits(configs),
      )
    : new Map();

  // Before connecting: a bad JWKS file fails start-up with nothing to close.
  const { jwt, required } = config.authentication;
  const identify = jwt ? createJwtIdentify({ ...jwt, required, logger }) : identifyAnonymous;

  const providers = await connectProviders(configs, eventFields.values(), logger);
  const everyProvider = [...providers.values()];
  const counters = createCounters();
  // Reported once, counted twice: into `counters` (tests, bench) and into `/metrics`.
  const metrics = config.metrics.enabled
    ? createMetrics({
        fields: eventFields.keys(),
        subgraphs: schema.subgraphUrls.keys(),
        brokerSubjects: (): number => hub.subjects,
      })
    : undefined;
  const tracing = config.tracing.enabled
    ? createTracing({ ...config.tracing, logger: logger.child({ name: 'tracing' }) })
    : undefined;
  const instrumentation: Instrumentation = combineInstrumentation(
    countInto(counters),
    ...(metrics ? [metrics] : []),
    ...(tracing ? [tracing] : []),
  );
  const hub = new EventHub({
    providers,
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
      introspection: config.introspection,
    }),
    executor: createExecutor({
      schema,
      logger,
      maskSubgraphErrors: config.maskSubgraphErrors,
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
    identify: forwardHeaders(identify, config.headers.forward),
    instrumentation,
    slowSubscriberLimit: config.slowSubscriberLimit,
    slowSubscriberMaxBytes: config.slowSubscriberMaxBytes,
  });

  const admission = createAdmission({
    maxConnections: config.limits.maxConnections,
    maxSubscriptions: config.limits.maxSubscriptions,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
    instrumentation,
    logger,
  });
  const cors = createCors(config.cors);
  if (config.graphiql && !config.introspection) {
    logger.warn('GraphiQL is on but introspection is off: GraphiQL cannot load the schema');
  }
  const open = new OpenStreams();
  let draining = false;
  const server = createServer(
    createHttpListener({
      core,
      logger,
      open,
      ready: () => ({
        ready: !draining && everyProvider.every((provider) => provider.isConnected()),
        ...providerStates(providers),
        ...(draining ? { draining: true } : {}),
      }),
      health: () => ({
        healthy: everyProvider.every((provider) => provider.isConnected()),
        ...providerStates(providers),
      }),
      maxPayloadBytes: config.maxPayloadBytes,
      sseHeartbeatMs: config.sseHeartbeatMs,
      multipartHeartbeatMs: config.multipartHeartbeatMs,
      graphiql: config.graphiql,
      graphiqlDefaultQuery: exampleOperation(
        schema.apiGraphQLSchema,
        eventFields,
        schema.authorization,
      ),
      instrumentation,
      metrics: metrics && { path: config.metrics.path, scrape: () => metrics.scrape() },
      admission,
      cors,
    }),
  );
  const ws = attachWebSockets({
    core,
    server,
    logger,
    instrumentation,
    maxPayloadBytes: config.maxPayloadBytes,
    connectionInitTimeoutMs: config.connectionInitTimeoutMs,
    admission,
    allowOrigin: cors.allows,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, resolve);
    });
  } catch (error) {
    await Promise.all([
      ws.close(),
      ...everyProvider.map((provider) => provider.close()),
      tracing?.shutdown(),
    ]);
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
    get connections() {
      return admission.connections;
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
      await Promise.all(everyProvider.map((provider) => provider.close()));
      // Last, so that the spans of the work that finished above are sent too.
      await tracing?.shutdown();
      logger.info('router stopped');
    },
  };
}

type ProviderState = 'connected' | 'disconnected';

/**
 * Each provider's state for `/health` and `/ready`; `nats` repeats the `default` provider's
 * when it is NATS, as before there were several.
 */
function providerStates(providers: ReadonlyMap<string, EventProvider>): {
  nats?: ProviderState;
  providers: Record<string, ProviderState>;
} {
  const states: Record<string, ProviderState> = {};
  for (const [id, provider] of providers) {
    states[id] = provider.isConnected() ? 'connected' : 'disconnected';
  }
  const first = providers.get('default');
  return first?.kind === 'nats'
    ? { nats: states['default']!, providers: states }
    : { providers: states };
}
