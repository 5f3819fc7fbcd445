import { GraphQLError, getArgumentValues, getVariableValues, type ExecutionResult } from 'graphql';
import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { QueryPlan } from '@apollo/query-planner';
import type { Logger } from '../logger.js';
import type { LoadedSupergraph } from '../schema/supergraph.js';
import type { EntityEvent } from '../events/event.js';
import { excerpt } from '../excerpt.js';
import { noopTrace, type Trace } from '../instrumentation.js';
import type { EventContext, FetchContext } from './data-sources.js';
import { maskSubgraphErrors } from './mask-errors.js';
import { nullsWhereRequired } from './null-variables.js';
import { withoutValueCompletionNotes } from './value-completion.js';
import type { PreparedOperation } from './operation.js';
import { REQUEST_ERROR_CODES, withCode } from './request-errors.js';
import type { TracedContext } from './traced-fetch.js';

export type Variables = Readonly<Record<string, unknown>>;

export interface ExecutorOptions {
  schema: LoadedSupergraph;
  serviceMap: ServiceMap;
  logger: Logger;
  /**
   * Replace what subgraphs' errors say with "Unexpected error." (INTERNAL_SERVER_ERROR),
   * logging the originals. @default false
   */
  maskSubgraphErrors?: boolean;
  /**
   * The events graph's name: its errors (a publish or request that failed) are the
   * router's own, shown without a `serviceName` and never masked.
   */
  eventsGraph?: string | undefined;
}

export interface Executor {
  /** Coerces the request's variables, or answers the errors that make them invalid. */
  coerceVariables(
    operation: PreparedOperation,
    inputs: Variables | null | undefined,
  ): Variables | readonly GraphQLError[];
  /** The root field's arguments of a subscription, for rendering its topic. */
  subscriptionArguments(
    operation: PreparedOperation,
    variables: Variables,
  ): Record<string, unknown>;
  /**
   * Runs a query or mutation against the subgraphs; `headers` go with every fetch (the
   * caller's forwarded headers), which are traced under an `execute` phase of `trace`.
   */
  execute(
    operation: PreparedOperation,
    variables: Variables,
    headers: Readonly<Record<string, string>>,
    trace?: Trace,
  ): Promise<ExecutionResult>;
  /**
   * Resolves one valid event for a subscription: the entity fetches its selection needs,
   * traced under `trace`.
   */
  resolveEvent(
    operation: PreparedOperation,
    variables: Variables,
    event: EntityEvent,
    headers: Readonly<Record<string, string>>,
    trace?: Trace,
  ): Promise<ExecutionResult>;
}

export function createExecutor({
  schema,
  serviceMap,
  logger,
  maskSubgraphErrors: mask = false,
  eventsGraph,
}: ExecutorOptions): Executor {
  const run = async (
    operation: PreparedOperation,
    plan: QueryPlan,
    variables: Variables,
    context: FetchContext & Partial<TracedContext>,
  ): Promise<ExecutionResult> => {
    // The executor reads only these members of Apollo Server's request context.
    const requestContext = {
      request: { variables },
      context,
      logger,
      metrics: {},
    } as unknown as GatewayGraphQLRequestContext;
    try {
      const result = await executeQueryPlan(
        plan,
        serviceMap,
        requestContext,
        operation.context,
        schema.supergraphGraphQLSchema,
        schema.apiSchema,
      );
      const unmasked = result.errors?.map((error) =>
        asRouterError(maskUnexpected(error, logger), eventsGraph),
      );
      const masked = unmasked && mask ? maskSubgraphErrors(unmasked, logger) : unmasked;
      // What authorization removed comes first: it was decided before anything ran.
      const { unauthorized } = operation;
      const errors = unauthorized.length > 0 ? [...unauthorized, ...(masked ?? [])] : masked;
      // `extensions.valueCompletion` explains a null where a subgraph's value did not fit
      // the API schema (e.g. an @inaccessible enum value); without it the null is silent.
      const extensions = withoutRemovedNulls(result.extensions, unauthorized);
      return {
        data: result.data ?? null,
        ...(errors ? { errors } : {}),
        ...(extensions ? { extensions } : {}),
      };
    } catch (error) {
      return { data: null, errors: [...operation.unauthorized, maskUnexpected(error, logger)] };
    }
  };

  return {
    coerceVariables(operation, inputs) {
      const definitions = operation.context.operation.variableDefinitions ?? [];
      const result = getVariableValues(schema.apiGraphQLSchema, definitions, { ...inputs });
      const { operation: node, fragments } = operation.context;
      const errors =
        result.errors ??
        nullsWhereRequired(schema.apiGraphQLSchema, node, fragments, result.coerced);
      if (errors.length === 0) return result.coerced!;
      return errors.map((error) => withCode(error, REQUEST_ERROR_CODES.variables));
    },
    subscriptionArguments(operation, variables) {
      const { field, fieldNode } = operation.subscription!;
      return getArgumentValues(field, fieldNode, variables);
    },
    async execute(operation, variables, headers, trace = noopTrace) {
      const phase = trace.phase('execute');
      try {
        return await run(operation, operation.plan, variables, { headers, trace: phase });
      } finally {
        phase.end();
      }
    },
    async resolveEvent(operation, variables, event, headers, trace) {
      const { responseKey } = operation.subscription!;
      const context: EventContext & Partial<TracedContext> = {
        headers,
        event,
        missing: [],
        ...(trace ? { trace } : {}),
      };
      const result = await run(operation, operation.plan, variables, context);
      if (context.missing.length === 0) return result;
      const { __typename, ...key } = event;
      const notFound = context.missing.map(
        (subgraph) =>
          new GraphQLError(
            `${__typename} ${excerpt(JSON.stringify(key))} was not found by subgraph "${subgraph}".`,
            {
              path: [responseKey],
              extensions: { code: 'ENTITY_NOT_FOUND', serviceName: subgraph },
            },
          ),
      );
      return { ...result, errors: [...notFound, ...(result.errors ?? [])] };
    },
  };
}

/** Errors the router did not mean to show are logged in full and shown as one line. */
function maskUnexpected(error: unknown, logger: Logger): GraphQLError {
  if (error instanceof GraphQLError) return error;
  logger.error({ err: error }, 'unexpected error while executing a plan');
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** An error from the events graph's fetch, which no subgraph answered, without `serviceName`. */
function asRouterError(error: GraphQLError, eventsGraph: string | undefined): GraphQLError {
  const { serviceName, ...extensions } = error.extensions;
  if (serviceName === undefined || serviceName !== eventsGraph) return error;
  return new GraphQLError(error.message, {
    ...(error.path ? { path: error.path } : {}),
    extensions,
  });
}

/**
 * The result's extensions less the `valueCompletion` notes about fields authorization
 * removed: their nulls are told by their UNAUTHORIZED_FIELD_OR_TYPE errors already (a
 * removed non-null field is a null Apollo's shaping would otherwise report as a fault).
 */
function withoutRemovedNulls(
  extensions: Record<string, unknown> | undefined,
  unauthorized: readonly GraphQLError[],
): Record<string, unknown> | undefined {
  if (unauthorized.length === 0) return extensions;
  const removed = unauthorized.flatMap((error) => (error.path ? [error.path] : []));
  // A field whose selection held only removed fields is removed too: a note about it (a
  // non-null one missing) is at the path above the removed one.
  return withoutValueCompletionNotes(extensions, (path) =>
    removed.some((operationPath) => startsWith(operationPath, path)),
  );
}

/** Whether an operation path (`@` for any list index) starts with a result path. */
function startsWith(
  operationPath: readonly (string | number)[],
  resultPath: readonly (string | number)[],
): boolean {
  return (
    resultPath.length <= operationPath.length &&
    resultPath.every(
      (segment, i) =>
        segment === operationPath[i] || (operationPath[i] === '@' && typeof segment === 'number'),
    )
  );
}
