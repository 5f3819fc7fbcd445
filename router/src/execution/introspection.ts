import { GraphQLError, type ValidationRule } from 'graphql';

/**
 * With introspection off (`introspection: false`), an operation that selects `__schema` or
 * `__type` anywhere is refused before planning. `__typename` is not introspection of the
 * schema (clients such as Apollo Client add it to every selection) and stays allowed.
 */
export const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name !== '__schema' && name !== '__type') return;
    context.reportError(
      new GraphQLError(`Introspection is turned off on this router (${name}).`, {
        nodes: node,
        extensions: { code: 'INTROSPECTION_DISABLED' },
      }),
    );
  },
});
