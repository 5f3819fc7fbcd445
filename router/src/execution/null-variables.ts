import {
  GraphQLError,
  Kind,
  TypeInfo,
  ValidationContext,
  isNonNullType,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type FragmentDefinitionNode,
} from 'graphql';

/**
 * Variables given `null` where the operation uses them as non-null values. One with a default
 * may stand where a value is required (`$s: Boolean = true` in `@include(if: $s)`), but a
 * `null` sent for it is not its default: the spec leaves that to execution, where Apollo's
 * executor throws a plain error (a 500, "Unexpected error."). Answered up front instead, as the
 * client's mistake, naming the variable. Looked into only when such a variable is null.
 */
export function nullsWhereRequired(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  coerced: Readonly<Record<string, unknown>>,
): GraphQLError[] {
  const suspects = new Set(
    (operation.variableDefinitions ?? [])
      .filter((d) => d.defaultValue && coerced[d.variable.name.value] === null)
      .map((d) => d.variable.name.value),
  );
  if (suspects.size === 0) return [];
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [operation, ...Object.values(fragments)],
  };
  const context = new ValidationContext(schema, document, new TypeInfo(schema), () => {});
  const errors: GraphQLError[] = [];
  for (const { node, type } of context.getRecursiveVariableUsages(operation)) {
    const name = node.name.value;
    if (!suspects.has(name) || !isNonNullType(type)) continue;
    suspects.delete(name); // one error per variable
    errors.push(
      new GraphQLError(
        `Variable "$${name}" is used where a value of type "${String(type)}" is required, so it cannot be null; leave it out to use its default.`,
        { nodes: [node] },
      ),
    );
  }
  return errors;
}
