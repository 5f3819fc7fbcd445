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
  EVENTS_DIRECTIVES,
  readEventsFilter,
  readEventsSubscribe,
  readEventsTarget,
  type EventsDirective,
  type EventsSubscribe,
  type EventsTarget,
} from './events-spec.js';
import type { FilterCondition } from './filter-condition.js';
import type { LoadedSupergraph } from './supergraph.js';

export type { EventsSubscribe, EventsTarget } from './events-spec.js';
export type { FilterCondition } from './filter-condition.js';

/** What the router needs from the events graph: its bindings and its entities' keys. */
export interface EventsGraph {
  /** What `@eventsSubscribe` says of each `Subscription` field that has it. */
  bindings: ReadonlyMap<string, EventsSubscribe>;
  /** What `@eventsFilter` says of each bound field that has it. */
  filters: ReadonlyMap<string, FilterCondition>;
  /** What `@eventsPublish` says of each `Mutation` field that has it. */
  publishes: ReadonlyMap<string, EventsTarget>;
  /** What `@eventsRequest` says of each `Query` field that has it. */
  requests: ReadonlyMap<string, EventsTarget>;
  /** The `@key` field sets of each entity type, as written in the events graph. */
  keys: ReadonlyMap<string, readonly string[]>;
}

/**
 * Reads the bindings a supergraph carries: the applications of our directives on its root
 * fields (under whatever names its `@link` to our spec gives them) and the `@key`s of the
 * events graph `name`, which the caller knows is in the supergraph.
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
  const names = (directive: EventsDirective) => feature.directiveNameInSchema(directive);
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
  const read = readBindings(supergraph.schema, names, filterDirective, name);
  // A composed directive may come from any subgraph; only the events graph's fields are bound.
  for (const [directive, fields] of boundFields(read)) {
    const root = EVENTS_DIRECTIVES[directive];
    const own = subgraph.schema.schemaDefinition.rootType(root);
    for (const field of fields) {
      if (!own?.field(field)) {
        throw new SchemaError(
          `${rootName(root)}.${field} has @${names(directive)} but the events graph does not define it`,
          name,
        );
      }
    }
  }
  checkAnswerable(subgraph, read, name);
  return { ...read, keys: readKeys(subgraph) };
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
  const names = (directive: EventsDirective) =>
    feature?.directiveNameInSchema(directive) ?? directive;
  const filterDirective = feature?.directiveNameInSchema('eventsFilter') ?? 'eventsFilter';
  const read = readBindings(subgraph.schema, names, filterDirective, name);
  checkAnswerable(subgraph, read, name);
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

type Bindings = Pick<EventsGraph, 'bindings' | 'filters' | 'publishes' | 'requests'>;

/** Our directive's name in a schema (its `@link` may rename it). */
type DirectiveNames = (directive: EventsDirective) => string;

/**
 * Reads every application of our directives, each of which must be on a field of the root
 * type it belongs on (`@eventsPublish` on `Mutation`…).
 */
function readBindings(
  schema: Schema,
  names: DirectiveNames,
  filterDirective: string,
  graph: string,
): Bindings {
  const bindings = new Map<string, EventsSubscribe>();
  const publishes = new Map<string, EventsTarget>();
  const requests = new Map<string, EventsTarget>();
  const roots = new Map(
    Object.entries(EVENTS_DIRECTIVES).map(([directive, root]) => [
      directive as EventsDirective,
      schema.schemaDefinition.rootType(root),
    ]),
  );
  for (const type of schema.types()) {
    if (type.kind !== 'ObjectType' && type.kind !== 'InterfaceType') continue;
    for (const field of type.fields()) {
      for (const [directive, root] of roots) {
        // Not repeatable, so at most one per field.
        const [applied] = field.appliedDirectivesOf(names(directive));
        if (!applied) continue;
        const where = `${type.name}.${field.name}: @${names(directive)}`;
        if (type !== root) {
          throw new SchemaError(
            `${where} belongs on a ${rootName(EVENTS_DIRECTIVES[directive])} field`,
            graph,
          );
        }
        const values = applied.arguments();
        if (directive === 'eventsSubscribe') {
          bindings.set(field.name, readEventsSubscribe(values, where, graph));
        } else {
          const target = readEventsTarget(values, where, graph);
          (directive === 'eventsPublish' ? publishes : requests).set(field.name, target);
        }
      }
    }
  }
  const filters = readFilters(schema, names('eventsSubscribe'), filterDirective, bindings, graph);
  if (bindings.size + publishes.size + requests.size === 0) {
    throw new SchemaError(
      `no Subscription field has @${names('eventsSubscribe')}(topic: …)`,
      graph,
    );
  }
  return { bindings, filters, publishes, requests };
}

/** The `@eventsFilter` of each `Subscription` field, which must be bound by `@eventsSubscribe`. */
function readFilters(
  schema: Schema,
  directive: string,
  filterDirective: string,
  bindings: ReadonlyMap<string, EventsSubscribe>,
  graph: string,
): Map<string, FilterCondition> {
  const filters = new Map<string, FilterCondition>();
  for (const field of schema.schemaDefinition.rootType('subscription')?.fields() ?? []) {
    // Not repeatable, so at most one per field.
    const [filter] = field.appliedDirectivesOf(filterDirective);
    if (!filter) continue;
    const where = `Subscription.${field.name}: @${filterDirective}`;
    if (!bindings.has(field.name)) {
      throw new SchemaError(`${where} needs @${directive} on the field`, graph);
    }
    filters.set(field.name, readEventsFilter(filter.arguments(), where, graph));
  }
  return filters;
}

function boundFields(read: Bindings): [EventsDirective, Iterable<string>][] {
  return [
    ['eventsSubscribe', read.bindings.keys()],
    ['eventsPublish', read.publishes.keys()],
    ['eventsRequest', read.requests.keys()],
  ];
}

/**
 * The events graph has no server: each of its Query and Mutation fields must be answered
 * by the router, so it must carry `@eventsRequest` or `@eventsPublish`.
 */
function checkAnswerable(subgraph: Subgraph, read: Bindings, graph: string): void {
  const answered = [
    ['query', read.requests, 'eventsRequest'],
    ['mutation', read.publishes, 'eventsPublish'],
  ] as const;
  for (const [root, bound, directive] of answered) {
    for (const field of subgraph.schema.schemaDefinition.rootType(root)?.fields() ?? []) {
      // Federation's own fields (`_entities`, `_service`) are the planner's, never asked here.
      if (field.name.startsWith('_') || bound.has(field.name)) continue;
      throw new SchemaError(
        `${rootName(root)}.${field.name} is in the events graph but has no @${directive}: ` +
          `the events graph has no server to answer it (composed without ` +
          `@composeDirective(name: "@${directive}")?)`,
        graph,
      );
    }
  }
}

function rootName(root: 'query' | 'mutation' | 'subscription'): string {
  return root === 'query' ? 'Query' : root === 'mutation' ? 'Mutation' : 'Subscription';
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
