import { GraphQLError } from 'graphql';

/**
 * Codes for a request that fails before anything runs, the ones Apollo Server gives, so
 * clients and dashboards written for Apollo read ours the same. graphql-js leaves these
 * errors without a code.
 */
export const REQUEST_ERROR_CODES = {
  /** The document does not parse. */
  parse: 'GRAPHQL_PARSE_FAILED',
  /** The document is not valid against the API schema. */
  validation: 'GRAPHQL_VALIDATION_FAILED',
  /** A variable is missing or of the wrong type. */
  variables: 'BAD_USER_INPUT',
} as const;

/** The same error with `extensions.code`, unless it has a code already (e.g. a limit's). */
export function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions['code'] !== undefined) return error;
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(error.originalError ? { originalError: error.originalError } : {}),
    extensions: { ...error.extensions, code },
  });
}
