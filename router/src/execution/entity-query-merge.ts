import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
} from 'graphql';

/**
 * One subgraph request that asks for the entities of several `_entities` queries at once:
 * each query's `_entities` field under its own alias, its variables and fragments renamed
 * so that they cannot clash. What the query planner sends for different operations differs
 * only in the selection, so the fetches of every operation resolving one event can share
 * one request per subgraph.
 */
export interface MergedEntityQuery {
  /** The document to send. */
  readonly query: string;
  readonly operationName: string;
  /** Where part `i`'s entities come back in the answer's data (and errors' paths). */
  readonly aliases: readonly string[];
  /** Part `i`'s variables under the names the merged query gives them. */
  variables(parts: readonly Readonly<Record<string, unknown>>[]): Record<string, unknown>;
}

/** The operation name of every merged request, as subgraph logs and traces show it. */
export const MERGED_OPERATION_NAME = 'EntitiesMerged';

/** One query as it is merged: its `_entities` field, variables and fragments. */
interface EntityQueryShape {
  readonly operation: OperationDefinitionNode;
  readonly fragments: readonly DefinitionNode[];
  readonly variables: readonly string[];
}

/** Queries seen, and the merges made of them; both are few (one per operation and subgraph). */
const MAX_CACHED = 1000;
const shapes = new Map<string, EntityQueryShape | null>();
const merges = new Map<string, MergedEntityQuery | null>();

/**
 * The merge of `queries` (two or more distinct `_entities` queries), or `undefined` when one
 * of them is not the shape the query planner sends (one query operation whose only
 * selection is `_entities`): such a query is sent on its own.
 */
export function mergeEntityQueries(queries: readonly string[]): MergedEntityQuery | undefined {
  const key = queries.join('\u0000');
  let merged = merges.get(key);
  if (merged === undefined) {
    merged = build(queries);
    remember(merges, key, merged);
  }
  return merged ?? undefined;
}

function build(queries: readonly string[]): MergedEntityQuery | null {
  const parts: EntityQueryShape[] = [];
  for (const query of queries) {
    const shape = shapeOf(query);
    if (!shape) return null;
    parts.push(shape);
  }
  const aliases = parts.map((_, i) => `_e${i}`);
  const renamed = parts.map((part, i) => renameIn(part, `p${i}_`, aliases[i]!));
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: renamed[0]!.operation.operation,
    name: { kind: Kind.NAME, value: MERGED_OPERATION_NAME },
    variableDefinitions: renamed.flatMap((part) => part.operation.variableDefinitions ?? []),
    directives: [],
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: renamed.flatMap((part) => part.operation.selectionSet.selections),
    },
  };
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [operation, ...renamed.flatMap((part) => part.fragments)],
  };
  return {
    query: print(document),
    operationName: MERGED_OPERATION_NAME,
    aliases,
    variables(values) {
      const all: Record<string, unknown> = {};
      parts.forEach((part, i) => {
        for (const name of part.variables) {
          if (values[i]?.[name] !== undefined) all[`p${i}_${name}`] = values[i]![name];
        }
      });
      return all;
    },
  };
}

function shapeOf(query: string): EntityQueryShape | null {
  let shape = shapes.get(query);
  if (shape !== undefined) return shape;
  shape = readShape(query);
  remember(shapes, query, shape);
  return shape;
}

function readShape(query: string): EntityQueryShape | null {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null; // The subgraph answers a document it cannot parse; it is sent as it is.
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const [operation] = operations;
  if (operations.length !== 1 || !operation || operation.operation !== 'query') return null;
  const [field, ...others] = operation.selectionSet.selections;
  if (others.length > 0 || field?.kind !== Kind.FIELD || field.name.value !== '_entities') {
    return null;
  }
  if ((operation.directives ?? []).length > 0) return null;
  return {
    operation,
    fragments: document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION),
    variables: (operation.variableDefinitions ?? []).map((v) => v.variable.name.value),
  };
}

/** The part with its variables and fragments prefixed and its `_entities` aliased. */
function renameIn(part: EntityQueryShape, prefix: string, alias: string): EntityQueryShape {
  const visitor = {
    [Kind.VARIABLE]: (node: { name: { value: string } }) => ({
      ...node,
      name: { kind: Kind.NAME, value: prefix + node.name.value },
    }),
    [Kind.FRAGMENT_SPREAD]: (node: { name: { value: string } }) => ({
      ...node,
      name: { kind: Kind.NAME, value: prefix + node.name.value },
    }),
    [Kind.FRAGMENT_DEFINITION]: (node: { name: { value: string } }) => ({
      ...node,
      name: { kind: Kind.NAME, value: prefix + node.name.value },
    }),
  };
  const operation = visit(part.operation, visitor) as OperationDefinitionNode;
  const field = operation.selectionSet.selections[0] as FieldNode;
  return {
    operation: {
      ...operation,
      selectionSet: {
        ...operation.selectionSet,
        selections: [{ ...field, alias: { kind: Kind.NAME, value: alias } }],
      },
    },
    fragments: part.fragments.map((fragment) => visit(fragment, visitor) as DefinitionNode),
    variables: part.variables,
  };
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}
