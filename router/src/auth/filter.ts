import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { AuthorizationRules, Requirement } from './requirements.js';

/**
 * Where a removed field sits in the response: response keys, with `@` for "every item of
 * a list" (the filter works on the operation, not on a response, as Apollo Router's does).
 */
export type RemovedPath = readonly string[];

export interface FilteredOperation {
  /** The operation (and the fragments) without what the caller may not see; plan this. */
  readonly document: DocumentNode;
  /** Where each removed field or fragment was, in document order. */
  readonly removed: readonly RemovedPath[];
  /** Whether nothing of the operation's root selection is left. */
  readonly empty: boolean;
}

/** Decides one requirement for the caller the operation is filtered for. */
export type Allowed = (requirement: Requirement) => boolean;

/**
 * Removes from an operation every field the caller may not see, Apollo Router's way: a
 * field is removed when the caller misses a requirement of the field, of the type it
 * returns, or (selected on an interface or union) of any type that may stand there or
 * that type's field; a fragment on a type the caller may not see is removed; a field whose
 * selection set is left empty is removed with it. The document must be valid.
 */
export function filterOperation(
  schema: GraphQLSchema,
  rules: AuthorizationRules,
  document: DocumentNode,
  operationName: string | undefined,
  allowed: Allowed,
): FilteredOperation {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    } else if (
      definition.kind === Kind.OPERATION_DEFINITION &&
      (operationName === undefined || definition.name?.value === operationName)
    ) {
      operation ??= definition;
    }
  }
  if (!operation) throw new TypeError(`no operation ${operationName ?? ''} in the document`);
  const root = schema.getRootType(operation.operation);
  // Nothing to filter: planning refuses an operation on a root type the schema lacks.
  if (!root) return { document, removed: [], empty: false };

  const permitted = (requirements: readonly Requirement[] | undefined): boolean =>
    requirements === undefined || requirements.every(allowed);
  const typePermitted = (type: GraphQLType): boolean =>
    permitted(rules.types.get(getNamedType(type).name));

  /** Whether a field selected on `parent` may be seen (the field itself, not below it). */
  const fieldPermitted = (parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>) => {
    if (!permitted(rules.fields.get(`${parent.name}.${field.name}`))) return false;
    if (!typePermitted(field.type)) return false;
    if (!isAbstractType(parent)) return true;
    // On an interface the value may be any implementation: each one's rules apply.
    return schema
      .getPossibleTypes(parent)
      .every(
        (type) => typePermitted(type) && permitted(rules.fields.get(`${type.name}.${field.name}`)),
      );
  };

  interface Filtered {
    selectionSet: SelectionSetNode | undefined;
    /** Paths relative to where the selection set sits. */
    removed: RemovedPath[];
  }
  // A fragment filters the same wherever it is spread: walk it once.
  const filteredFragments = new Map<string, Filtered>();

  const filterSelectionSet = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
  ): Filtered => {
    const removed: RemovedPath[] = [];
    const kept: SelectionNode[] = [];
    let changed = false;
    for (const selection of selectionSet.selections) {
      const next = filterSelection(selection, parent, removed);
      if (next !== selection) changed = true;
      if (next) kept.push(next);
    }
    if (kept.length === 0) return { selectionSet: undefined, removed };
    return {
      selectionSet: changed ? { ...selectionSet, selections: kept } : selectionSet,
      removed,
    };
  };

  const filterSelection = (
    selection: SelectionNode,
    parent: GraphQLCompositeType,
    removed: RemovedPath[],
  ): SelectionNode | undefined => {
    switch (selection.kind) {
      case Kind.FIELD: {
        const field = fieldOf(parent, selection);
        // __typename and introspection carry no requirement.
        if (!field) return selection;
        const key = selection.alias?.value ?? selection.name.value;
        // No field leads to the root type: its own requirements apply to each root field.
        if (!fieldPermitted(parent, field) || (parent === root && !typePermitted(root))) {
          removed.push([key]);
          return undefined;
        }
        if (!selection.selectionSet) return selection;
        const inner = filterSelectionSet(
          selection.selectionSet,
          getNamedType(field.type) as GraphQLCompositeType,
        );
        const prefix = [key, ...listMarkers(field.type)];
        for (const path of inner.removed) removed.push([...prefix, ...path]);
        if (!inner.selectionSet) return undefined;
        return inner.selectionSet === selection.selectionSet
          ? selection
          : { ...selection, selectionSet: inner.selectionSet };
      }
      case Kind.INLINE_FRAGMENT: {
        const condition = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (!condition || !isCompositeType(condition)) return selection;
        if (condition !== parent && !typePermitted(condition)) {
          removed.push([]);
          return undefined;
        }
        const inner = filterSelectionSet(selection.selectionSet, condition);
        removed.push(...inner.removed);
        if (!inner.selectionSet) return undefined;
        return inner.selectionSet === selection.selectionSet
          ? selection
          : { ...selection, selectionSet: inner.selectionSet };
      }
      case Kind.FRAGMENT_SPREAD: {
        const fragment = fragments.get(selection.name.value);
        const condition = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !condition || !isCompositeType(condition)) return selection;
        if (condition !== parent && !typePermitted(condition)) {
          removed.push([]);
          return undefined;
        }
        let inner = filteredFragments.get(fragment.name.value);
        if (!inner) {
          inner = filterSelectionSet(fragment.selectionSet, condition);
          filteredFragments.set(fragment.name.value, inner);
        }
        removed.push(...inner.removed);
        if (!inner.selectionSet) return undefined;
        if (inner.selectionSet === fragment.selectionSet) return selection;
        // The fragment's definition stays for the spreads that keep it; this one is inlined.
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          ...(selection.directives ? { directives: selection.directives } : {}),
          selectionSet: inner.selectionSet,
        };
      }
    }
  };

  const filtered = filterSelectionSet(operation.selectionSet, root);
  const kept: OperationDefinitionNode = {
    ...operation,
    selectionSet: filtered.selectionSet ?? { kind: Kind.SELECTION_SET, selections: [] },
  };
  return {
    document: {
      kind: Kind.DOCUMENT,
      definitions: [
        kept,
        ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION),
      ],
    },
    removed: filtered.removed,
    empty: filtered.selectionSet === undefined,
  };
}

/**
 * Every requirement an operation touches, each once, in the order met. A caller's answer
 * to each decides the filtered operation: callers with the same answers see the same.
 */
export function requirementsOf(
  schema: GraphQLSchema,
  rules: AuthorizationRules,
  document: DocumentNode,
  operationName: string | undefined,
): readonly Requirement[] {
  const met = new Set<Requirement>();
  filterOperation(schema, rules, document, operationName, (requirement) => {
    met.add(requirement);
    return true;
  });
  return [...met];
}

/** The error for one removed field, as Apollo Router words it. */
export function unauthorizedError(path: RemovedPath): GraphQLError {
  return new GraphQLError('Unauthorized field or type', {
    // A fragment removed from the root selection sits at no path.
    ...(path.length > 0 ? { path } : {}),
    extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
  });
}

function fieldOf(
  parent: GraphQLCompositeType,
  node: FieldNode,
): GraphQLField<unknown, unknown> | undefined {
  if (node.name.value.startsWith('__')) return undefined;
  return 'getFields' in parent ? parent.getFields()[node.name.value] : undefined;
}

/** One `@` per list around a field's type: `[[User!]]` sits two lists deep. */
function listMarkers(type: GraphQLType): string[] {
  const markers: string[] = [];
  let current = getNullableType(type);
  while (isListType(current)) {
    markers.push('@');
    current = getNullableType(current.ofType);
  }
  return markers;
}
