import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** Date and time with an explicit offset, e.g. `2024-05-01T09:00:00.000Z` or `...+02:00`. */
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseIso(value: string): Date {
  const date = new Date(value);
  if (!isoDateTime.test(value) || Number.isNaN(date.getTime())) {
    throw new GraphQLError(
      `DateTime must be an ISO 8601 date-time with an offset, e.g. "2024-05-01T09:00:00Z"; got "${value}"`,
    );
  }
  return date;
}

/** `DateTime`: a `Date` inside the subgraph, an ISO 8601 string on the wire. */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date-time string with an offset, e.g. 2024-05-01T09:00:00.000Z.',
  serialize(value) {
    const date = typeof value === 'string' ? parseIso(value) : value;
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
    }
    return date.toISOString();
  },
  parseValue(value) {
    if (typeof value !== 'string') {
      throw new GraphQLError(`DateTime must be a string; got ${typeof value}`);
    }
    return parseIso(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError(`DateTime must be a string literal; got ${ast.kind}`, { nodes: ast });
    }
    return parseIso(ast.value);
  },
});
