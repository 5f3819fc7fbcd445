import { QueryPlanner } from '@apollo/query-planner';
import type { ProviderConfig, RouterConfig } from './config.js';
import type { SchemaSnapshot } from './core.js';
import { bindEventFields, type EventField } from './events/event-field.js';
import { createServiceMap } from './execution/data-sources.js';
import { createExecutor } from './execution/executor.js';
import { OperationCache } from './execution/operation.js';
import type { Instrumentation } from './instrumentation.js';
import type { Logger } from './logger.js';
import { providerTraits } from './providers/connect.js';
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
  logger: Logger;
  instrumentation: Instrumentation;
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
  { config, providers, logger, instrumentation }: SnapshotOptions,
): Snapshot {
  const supergraph = loadSupergraph(sdl, config.events.name);
  const eventsGraph = loadEventsGraph(supergraph, config.events, logger);
  const eventFields: ReadonlyMap<string, EventField> = eventsGraph
    ? bindEventFields(
        eventsGraph,
        supergraph.apiGraphQLSchema,
        config.events.name,
        providerTraits(providers),
      )
    : new Map();
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
      serviceMap: createServiceMap({
        urls: supergraph.subgraphUrls,
        eventsGraph: config.events.name,
        timeoutMs: config.subgraphTimeoutMs,
        batchWindowMs: config.batchWindowMs,
        dedupeQueries: config.dedupeSubgraphQueries,
        maxBatchRepresentations: config.batchMaxRepresentations,
        logger,
        instrumentation,
      }),
    }),
  };
}
