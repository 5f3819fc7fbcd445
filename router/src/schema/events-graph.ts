import type { DocumentNode } from 'graphql';
import {
  buildSubgraph,
  type CoreFeature,
  type Schema,
  type Subgraph,
  type Supergraph,
} from '@apollo/federation-internals';
import { SchemaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { readSubgraphSdl } from './compose.js';
import {
  EVENTS_SPEC_IDENTITY,
  EVENTS_SPEC_MAJOR,
  EVENTS_SPEC_URL,
  readEventsFilter,
  readEventsSubscribe,
  type EventsSubscribe,
} from './events-spec.js';
import type { FilterCondition } from './filter-condition.js';
import type { LoadedSupergraph } from './supergraph.js';

export type { EventsSubscribe } from './events-spec.js';
export type { FilterCondition } from './filter-condition.js';

/** What the router needs from the events graph: its bindings and its entities' keys. */
export interface EventsGraph {
  /** What `@eventsSubscribe` says of each `Subscription` field that has it. */
  bindings: ReadonlyMap<string, EventsSubscribe>;
  /** What `@eventsFilter` says of each bound field that has it. */
  filters: ReadonlyMap<string, FilterCondition>;
  /** The `@key` field sets of each entity type, as written in the events graph. */
  keys: ReadonlyMap<string, readonly string[]>;
}

/**
 * Reads the bindings a supergraph carries: the `@eventsSubscribe` applications on its
 * `Subscription` fields (under whatever name its `@link` to our spec gives the directive)
 * and the `@key`s of the events graph `name`, which the caller knows is in the supergraph.
 *
 * @returns `undefined` when the supergraph does not link our spec: its events graph did not
 * declare `@composeDirective(name: "@eventsSubscribe")`, so composition dropped the bindings
 */
export function readSupergraphEventsGraph(
  supergraph: Supergraph,
  name: string,
): EventsGraph | undefined {
  const feature = eventsFeature(supergraph.schema, name);
  if (!feature) return undefined;
  const subgraph = supergraph.subgraphs().get(name);
  if (!subgraph) throw new SchemaError('is not a subgraph of the supergraph', name);
  const directive = feature.directiveNameInSchema('eventsSubscribe');
  const filterDirective = feature.directiveNameInSchema('eventsFilter');
  // Its input type came through, the directive not: without it every event would go to all.
  if (
    supergraph.schema.type(feature.typeNameInSchema('FilterCondition')) &&
    !supergraph.schema.directive(filterDirective)
  ) {
    throw new SchemaError(
      `defines @eventsFilter, but the supergraph does not carry it: add @composeDirective(name: "@eventsFilter") ` +
        `(and "@eventsFilter" to the import of its @link to ${EVENTS_SPEC_URL}) and compose again`,
      name,
    );
  }
  const { bindings, filters } = readBindings(supergraph.schema, directive, filterDirective, name);
  // A composed directive may come from any subgraph; only the events graph's fields are bound.
  const own = subgraph.schema.schemaDefinition.rootType('subscription');
  for (const field of bindings.keys()) {
    if (!own?.field(field)) {
      throw new SchemaError(
        `Subscription.${field} has @${directive} but the events graph does not define it`,
        name,
      );
    }
  }
  return { bindings, filters, keys: readKeys(subgraph) };
}

/**
 * Reads the bindings from the events graph's own SDL (`events.schema`): for a supergraph
 * that does not carry them. The SDL may link our spec or, as before it existed, define
 * `@eventsSubscribe` by itself.
 */
export function readEventsGraphSdl(sdl: DocumentNode, name: string): EventsGraph {
  let subgraph: Subgraph;
  try {
    subgraph = buildSubgraph(name, '', sdl);
  } catch (cause) {
    throw new SchemaError(`not a valid subgraph: ${(cause as Error).message}`, name, { cause });
  }
  const feature = eventsFeature(subgraph.schema, name);
  const read = readBindings(
    subgraph.schema,
    feature?.directiveNameInSchema('eventsSubscribe') ?? 'eventsSubscribe',
    feature?.directiveNameInSchema('eventsFilter') ?? 'eventsFilter',
    name,
  );
  return { ...read, keys: readKeys(subgraph) };
}

/** The schema's `@link` to our spec, if it has one in a version this router reads. */
function eventsFeature(schema: Schema, graph: string): CoreFeature | undefined {
  const feature = schema.coreFeatures?.getByIdentity(EVENTS_SPEC_IDENTITY);
  if (feature && feature.url.version.major !== EVENTS_SPEC_MAJOR) {
    throw new SchemaError(
      `links ${feature.url.url}, but this router reads ${EVENTS_SPEC_URL} (version ${EVENTS_SPEC_MAJOR}.x)`,
      graph,
    );
  }
  return feature;
}

function readBindings(
  schema: Schema,
  directive: string,
  filterDirective: string,
  graph: string,
): Pick<EventsGraph, 'bindings' | 'filters'> {
  const bindings = new Map<string, EventsSubscribe>();
  const filters = new Map<string, FilterCondition>();
  for (const field of schema.schemaDefinition.rootType('subscription')?.fields() ?? []) {
    // Neither is repeatable, so at most one of each per field.
    const [applied] = field.appliedDirectivesOf(directive);
    const [filter] = field.appliedDirectivesOf(filterDirective);
    if (filter) {
      const where = `Subscription.${field.name}: @${filterDirective}`;
      if (!applied) throw new SchemaError(`${where} needs @${directive} on the field`, graph);
      filters.set(field.name, readEventsFilter(filter.arguments(), where, graph));
    }
    if (!applied) continue;
    const where = `Subscription.${field.name}: @${directive}`;
    bindings.set(field.name, readEventsSubscribe(applied.arguments(), where, graph));
  }
  if (bindings.size === 0) {
    throw new SchemaError(`no Subscription field has @${directive}(topic: …)`, graph);
  }
  return { bindings, filters };
}

function readKeys(subgraph: Subgraph): Map<string, string[]> {
  const key = subgraph.metadata().keyDirective();
  const keys = new Map<string, string[]>();
  for (const type of subgraph.schema.types()) {
    if (type.kind !== 'ObjectType' && type.kind !== 'InterfaceType') continue;
    const fieldSets = type.appliedDirectivesOf(key).map((applied) => applied.arguments().fields);
    if (fieldSets.length > 0) keys.set(type.name, fieldSets);
  }
  return keys;
}

/** Where the events graph is, as `events` in the config says. */
export interface EventsGraphOptions {
  /** Its name in the supergraph. */
  name: string;
  /** Path of its SDL: read only for a supergraph that does not carry the bindings. */
  schema?: string | undefined;
}

/**
 * The events graph the router serves: the bindings the supergraph carries, else those of
 * `events.schema`. `undefined` for a supergraph without an events graph, which the router
 * serves as a plain federation gateway.
 *
 * @throws SchemaError for an events graph whose bindings are nowhere, naming the fix
 */
export function loadEventsGraph(
  schema: Pick<LoadedSupergraph, 'supergraph' | 'hasEventsGraph'>,
  { name, schema: file }: EventsGraphOptions,
  logger: Logger,
): EventsGraph | undefined {
  if (!schema.hasEventsGraph) {
    if (file) {
      logger.warn(
        { eventsGraph: name },
        'the supergraph has no events graph by that name: serving queries and mutations only',
      );
    }
    return undefined;
  }
  const carried = readSupergraphEventsGraph(schema.supergraph, name);
  if (carried) return carried;
  const fix =
    `extend schema @link(url: "${EVENTS_SPEC_URL}", import: ["@eventsSubscribe"]) ` +
    `@composeDirective(name: "@eventsSubscribe")`;
  if (file) {
    logger.warn(
      { eventsGraph: name, schema: file, add: fix },
      `the supergraph does not carry the event bindings (no @link to ${EVENTS_SPEC_URL}): ` +
        'reading them from events.schema; add the @link and @composeDirective to that SDL ' +
        'so that the supergraph carries them',
    );
    return readEventsGraphSdl(readSubgraphSdl({ name, schema: file }), name);
  }
  throw new SchemaError(
    `the supergraph does not carry the event bindings: its events graph was composed without ` +
      `@link(url: "${EVENTS_SPEC_URL}"). Add \`${fix}\` to the events graph SDL (with ` +
      `"@composeDirective" in its federation @link's import) and compose again, or name that ` +
      `SDL in events.schema`,
    name,
  );
}
