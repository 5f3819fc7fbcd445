import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { identifyAnonymous } from './auth/caller.js';
import { createJwtIdentify } from './auth/jwt.js';
import { providerConfigs, type RouterConfig } from './config.js';
import { forwardHeaders } from './auth/forwarded-headers.js';
import { createCore, type SwapReport } from './core.js';
import { countInto, createCounters, type Counters } from './counters.js';
import { EventHub } from './events/event-hub.js';
import { exampleOperation } from './events/example-operation.js';
import { combineInstrumentation, type Instrumentation } from './instrumentation.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './observability/metrics.js';
import { createTracing } from './observability/tracing.js';
import { connectProviders } from './providers/connect.js';
import type { EventProvider } from './providers/provider.js';
import { supergraphSource } from './schema/supergraph-source.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { answerClientError } from './transports/client-errors.js';
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
  /** The version of the supergraph served now: 1, then one more with each reload. */
  readonly supergraphVersion: number;
  /**
   * Reads the supergraph again (file, URL or composition) and, if it changed and is valid,
   * serves it from now on (SIGHUP does this). Never rejects: a supergraph that cannot be
   * served is logged, reported, and the one served so far goes on. Reloads run one at a
   * time; those asked for while one waits its turn share that one and its report.
   */
  reload(): Promise<ReloadReport>;
  /** Ends client connections, unsubscribes from the broker, stops listening. */
  close(): Promise<void>;
}

/** What a reload did. */
export interface ReloadReport {
  /** Whether a new supergraph is served now. */
  readonly reloaded: boolean;
  readonly version: number;
  /** What became of the subscriptions open at the time. */
  readonly subscriptions?: SwapReport;
  /** Why the new supergraph was refused. */
  readonly error?: string;
}

/** Composes (or loads) the supergraph, connects to the brokers and starts listening. */
export async function createRouter({
  config,
  logger = createLogger(),
}: RouterOptions): Promise<Router> {
  const source = supergraphSource(config, logger);
  const sdl = await source.read();

  // Before connecting: a bad JWKS file fails start-up with nothing to close.
  const { jwt, required } = config.authentication;
  const identify = jwt ? createJwtIdentify({ ...jwt, required, logger }) : identifyAnonymous;

  const counters = createCounters();
  // Reported once, counted twice: into `counters` (tests, bench) and into `/metrics`.
  const metrics = config.metrics.enabled
    ? createMetrics({
        fields: [],
        subgraphs: [],
        brokerSubjects: (): number => hub.subjects,
        brokersConnected: () => [...providers].map(([id, p]) => [id, p.isConnected()] as const),
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
  const configs = providerConfigs(config);
  // Filled once connected, below: connecting needs the first snapshot's fields.
  const connected = new Map<string, EventProvider>();
  // The router's own connections to the subgraphs, so that stopping it aborts their requests.
  const subgraphConnections = new Agent();
  const building = {
    config,
    providers: configs,
    connected,
    logger,
    instrumentation,
    subgraphConnections,
  };
  let snapshot = buildSnapshot(sdl, 1, building);
  const admit = ({ eventFields, supergraph }: Snapshot): void =>
    metrics?.admit({ fields: eventFields.keys(), subgraphs: supergraph.subgraphUrls.keys() });
  admit(snapshot);

  const providers = await connectProviders(configs, snapshot.eventFields.values(), logger);
  for (const [id, provider] of providers) connected.set(id, provider);
  const everyProvider = [...providers.values()];
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
    snapshot,
    hub,
    logger,
    identify: forwardHeaders(identify, config.headers.forward),
    instrumentation,
    slowSubscriberLimit: config.slowSubscriberLimit,
    slowSubscriberMaxBytes: config.slowSubscriberMaxBytes,
    maxSubscriptionBytes: config.limits.maxSubscriptionBytes,
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
  /**
   * Reloads take turns: each reads the source anew and compares with what is served. At most
   * one waits behind the running one, and every reload asked for meanwhile is that one: it
   * reads the source after them all. Without this a URL slower than its poll interval (a
   * registry that hangs until the fetch times out) would queue reloads without end.
   */
  let reloading: Promise<unknown> = Promise.resolve();
  let waiting: Promise<ReloadReport> | undefined;
  /**
   * The last text refused, and why: read again (a poll, a stray change in its folder), it is
   * not built again; `told` once that has been logged, so a poll does not log it each time.
   */
  let refused: { readonly sdl: string; readonly error: string; told: boolean } | undefined;
  const reload = (): Promise<ReloadReport> => {
    if (waiting) return waiting;
    const next = reloading.then(async (): Promise<ReloadReport> => {
      waiting = undefined;
      let sdl: string | undefined;
      try {
        sdl = await source.read();
        // A stopping router serves out what it has; its subscriptions are ending anyway.
        if (draining || sdl === snapshot.sdl) return { reloaded: false, version: snapshot.version };
        if (sdl === refused?.sdl) {
          if (!refused.told) {
            logger.info(
              'supergraph unchanged since it was refused; the previous one goes on serving',
            );
          }
          refused.told = true;
          return { reloaded: false, version: snapshot.version, error: refused.error };
        }
        const built = buildSnapshot(sdl, snapshot.version + 1, building);
        admit(built);
        snapshot = built;
        refused = undefined;
        const subscriptions = core.swap(built);
        metrics?.supergraphReload('reloaded');
        logger.info({ version: built.version, subscriptions }, 'supergraph reloaded');
        return { reloaded: true, version: built.version, subscriptions };
      } catch (error) {
        // Nothing a client sees changes: the supergraph served so far goes on.
        metrics?.supergraphReload('refused');
        logger.error({ err: error }, 'supergraph reload refused; the previous one goes on serving');
        if (sdl !== undefined) refused = { sdl, error: String(error), told: false };
        return { reloaded: false, version: snapshot.version, error: String(error) };
      }
    });
    reloading = next;
    waiting = next;
    return next;
  };
  const stopWatching = source.watch(() => void reload());

  const open = new OpenStreams();
  let draining = false;
  const listener = createHttpListener({
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
      snapshot.schema,
      snapshot.eventFields,
      snapshot.supergraph.authorization,
    ),
    instrumentation,
    metrics: metrics && { path: config.metrics.path, scrape: () => metrics.scrape() },
    admission,
    cors,
  });
  /** Answers being made: once the router drains, those not begun close their connection too. */
  const answering = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    // A keep-alive client would otherwise go on sending here, through the grace period and
    // into its cut, instead of going to another router: each answer now closes its connection.
    if (draining) response.setHeader('connection', 'close');
    else {
      answering.add(response);
      response.once('close', () => answering.delete(response));
    }
    listener(request, response);
  });
  server.on('clientError', answerClientError);
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
    stopWatching();
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
    {
      url,
      subgraphs: [...snapshot.supergraph.subgraphUrls.keys()],
      events: [...snapshot.eventFields.keys()],
    },
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
    get supergraphVersion() {
      return snapshot.version;
    },
    reload,
    async close() {
      stopWatching();
      // Readiness first, so load balancers stop sending new clients here.
      draining = true;
      for (const response of answering) {
        if (!response.headersSent) response.setHeader('connection', 'close');
      }
      const { delayMs, graceMs } = config.shutdown;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Streaming clients are told to go elsewhere; their subscriptions end here.
      open.endAll();
      // Queries and mutations in flight get the grace period to finish, over HTTP and over
      // WebSocket (whose other connections are told to go elsewhere at once).
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await Promise.all([closed, ws.close(graceMs)]);
      clearTimeout(cut);
      // What a cut query still waits for would otherwise hold the process up to
      // subgraphTimeoutMs after its client is gone.
      await subgraphConnections.destroy();
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
