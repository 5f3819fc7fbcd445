import { QueryPlanner } from '@apollo/query-planner';
import type { Agent } from 'undici';
import type { ProviderConfig, RouterConfig } from './config.js';
import type { SchemaSnapshot } from './core.js';
import { bindEventFields, type EventField } from './events/event-field.js';
import { bindPublishFields } from './events/publish-field.js';
import { bindRequestFields } from './events/request-field.js';
import { createServiceMap } from './execution/data-sources.js';
import { createEventsSource } from './execution/events-source.js';
import { createExecutor } from './execution/executor.js';
import { OperationCache } from './execution/operation.js';
import type { Instrumentation } from './instrumentation.js';
import type { Logger } from './logger.js';
import { providerTraits } from './providers/connect.js';
import type { EventProvider } from './providers/provider.js';
import { loadEventsGraph } from './schema/events-graph.js';
import { loadSupergraph, type LoadedSupergraph } from './schema/supergraph.js';

/** A supergraph version as the router serves it: what the core needs, and what it came from. */
export interface Snapshot extends SchemaSnapshot {
  /** The supergraph SDL it was built from. */
  readonly sdl: string;
  readonly supergraph: LoadedSupergraph;
  /** The `Subscription` fields bound to events. */
  readonly eventFields: ReadonlyMap<string, EventField>;
}

export interface SnapshotOptions {
  config: RouterConfig;
  /** Every provider by id, whose subject syntax and capabilities the bindings are checked against. */
  providers: ReadonlyMap<string, ProviderConfig>;
  /**
   * The same providers connected, which publish and request fields use. The router fills
   * the map once they are connected (which needs the first snapshot's fields), before it
   * takes any request.
   */
  connected: ReadonlyMap<string, EventProvider>;
  logger: Logger;
  instrumentation: Instrumentation;
  /** The connections to the subgraphs; the router destroys them when it stops. */
  subgraphConnections: Agent;
}

/**
 * Builds everything that depends on one supergraph: its schemas, its event bindings
 * (checked), its operation cache and planner, its executor and subgraph data sources (so
 * entity batches never mix versions). Throws a `SchemaError` (or a topic error) if the
 * supergraph cannot be served; nothing is changed then.
 */
export function buildSnapshot(
  sdl: string,
  version: number,
  { config, providers, connected, logger, instrumentation, subgraphConnections }: SnapshotOptions,
): Snapshot {
  const { name, publishTimeoutMs, requestTimeoutMs } = config.events;
  const supergraph = loadSupergraph(sdl, name);
  const eventsGraph = loadEventsGraph(supergraph, config.events, logger);
  const api = supergraph.apiGraphQLSchema;
  const traits = providerTraits(providers);
  const eventFields: ReadonlyMap<string, EventField> = eventsGraph
    ? bindEventFields(eventsGraph, api, name, traits)
    : new Map();
  const publishes = eventsGraph
    ? bindPublishFields(eventsGraph, api, name, traits, eventFields)
    : new Map();
  const requests = eventsGraph ? bindRequestFields(eventsGraph, api, name, traits) : new Map();
  // Only fetches of publish and request fields are run against it; events need no schema.
  const eventsSchema =
    publishes.size + requests.size > 0
      ? supergraph.supergraph.subgraphs().get(name)?.schema.toGraphQLJSSchema()
      : undefined;
  return {
    version,
    sdl,
    supergraph,
    eventFields,
    schema: supergraph.apiGraphQLSchema,
    operations: new OperationCache({
      schema: supergraph,
      planner: new QueryPlanner(supergraph.supergraph),
      eventFields,
      limits: config.limits,
      introspection: config.introspection,
    }),
    executor: createExecutor({
      schema: supergraph,
      logger,
      maskSubgraphErrors: config.maskSubgraphErrors,
      eventsGraph: name,
      serviceMap: createServiceMap({
        urls: supergraph.subgraphUrls,
        eventsGraph: name,
        eventsSource: createEventsSource({
          schema: eventsSchema,
          publishes,
          requests,
          providers: connected,
          publishTimeoutMs,
          requestTimeoutMs,
          logger,
        }),
        timeoutMs: config.subgraphTimeoutMs,
        batchWindowMs: config.batchWindowMs,
        dedupeQueries: config.dedupeSubgraphQueries,
        maxBatchRepresentations: config.batchMaxRepresentations,
        logger,
        instrumentation,
        dispatcher: subgraphConnections,
      }),
    }),
  };
}
