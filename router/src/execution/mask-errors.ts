import { GraphQLError } from 'graphql';
import type { Logger } from '../logger.js';

/**
 * Codes the router gives subgraph failures itself: their messages are the router's own
 * ("Subgraph "user" timed out.") and say nothing about a subgraph's insides, so they stay.
 */
const ROUTER_CODES: ReadonlySet<unknown> = new Set([
  'SUBGRAPH_TIMEOUT',
  'SUBGRAPH_UNAVAILABLE',
  'SUBGRAPH_INVALID_RESPONSE',
  'ENTITY_NOT_FOUND',
  'INTERNAL_SERVER_ERROR',
]);

/**
 * With `maskSubgraphErrors`, an error a subgraph returned (Apollo's executor marks each with
 * `extensions.serviceName`) reaches the client as "Unexpected error." with
 * INTERNAL_SERVER_ERROR and its `path`; the original is logged once, here. Errors the
 * router made, or found in the result itself (a null in a non-null field), pass unchanged.
 */
export function maskSubgraphErrors(
  errors: readonly GraphQLError[],
  logger: Logger,
): GraphQLError[] {
  return errors.map((error) => {
    const { serviceName, code } = error.extensions;
    if (typeof serviceName !== 'string' || ROUTER_CODES.has(code)) return error;
    logger.warn(
      { subgraph: serviceName, path: error.path, code, message: error.message },
      'a subgraph returned an error (masked for the client)',
    );
    return new GraphQLError('Unexpected error.', {
      ...(error.path ? { path: error.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
}
