/**
 * What an `@eventsFilter` reads must be fetched whatever the client selected: the router
 * adds the filter's field paths to the subscription field's selection, under aliases no
 * client sees (the filter takes them out of each result), before the operation is planned.
 */
import {
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type InlineFragmentNode,
  type SelectionNode,
} from 'graphql';
import { FILTER_ALIAS_PREFIX, type EventFilter } from '../events/event-filter.js';

/**
 * The error refusing an operation that uses the filter's own aliases: with them it could
 * put its own value where the filter reads one. `undefined` for any other operation.
 */
export function reservedAliasError(document: DocumentNode): GraphQLError | undefined {
  let found: string | undefined;
  visit(document, {
    Field(node) {
      if (node.alias?.value.startsWith(FILTER_ALIAS_PREFIX)) found ??= node.alias.value;
    },
  });
  return found === undefined
    ? undefined
    : new GraphQLError(
        `The alias "${found}" is reserved: aliases starting with ${FILTER_ALIAS_PREFIX} are the router's.`,
        {
          extensions: { code: 'BAD_USER_INPUT' },
        },
      );
}

/**
 * `document` with the filter's selections added to the root field of its operation
 * `operationName` (the only one when absent), once under each type the field can return.
 */
export function withFilterSelections(
  document: DocumentNode,
  operationName: string | undefined,
  filter: EventFilter,
): DocumentNode {
  const added: InlineFragmentNode[] = filter.typeConditions.map((type) => ({
    kind: Kind.INLINE_FRAGMENT,
    typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type } },
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: filter.selections.map(({ alias, path }) => fieldAt(path, alias)),
    },
  }));
  return {
    ...document,
    definitions: document.definitions.map((definition) => {
      if (
        definition.kind !== Kind.OPERATION_DEFINITION ||
        (operationName !== undefined && definition.name?.value !== operationName)
      ) {
        return definition;
      }
      const [root, ...others] = definition.selectionSet.selections;
      if (root?.kind !== Kind.FIELD || !root.selectionSet) return definition;
      const selections: SelectionNode[] = [...root.selectionSet.selections, ...added];
      const field: FieldNode = { ...root, selectionSet: { ...root.selectionSet, selections } };
      return {
        ...definition,
        selectionSet: { ...definition.selectionSet, selections: [field, ...others] },
      };
    }),
  };
}

/** `a { b { c } }` for the path `a.b.c`, the first field under `alias`. */
function fieldAt(path: readonly string[], alias?: string): FieldNode {
  const [name, ...rest] = path;
  return {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: name! },
    ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}),
    ...(rest.length > 0
      ? { selectionSet: { kind: Kind.SELECTION_SET, selections: [fieldAt(rest)] } }
      : {}),
  };
}
