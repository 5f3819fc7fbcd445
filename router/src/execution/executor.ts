import { GraphQLError, getArgumentValues, getVariableValues, type ExecutionResult } from 'graphql';
import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { QueryPlan } from '@apollo/query-planner';
import type { Logger } from '../logger.js';
import type { LoadedSupergraph } from '../schema/supergraph.js';
import type { EntityEvent } from '../events/event.js';
import type { EventContext, FetchContext } from './data-sources.js';
import type { PreparedOperation } from './operation.js';

export type Variables = Readonly<Record<string, unknown>>;

export interface ExecutorOptions {
  schema: LoadedSupergraph;
  serviceMap: ServiceMap;
  logger: Logger;
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
   * caller's forwarded headers).
   */
  execute(
    operation: PreparedOperation,
    variables: Variables,
    headers: Readonly<Record<string, string>>,
  ): Promise<ExecutionResult>;
  /** Resolves one valid event for a subscription: the entity fetches its selection needs. */
  resolveEvent(
    operation: PreparedOperation,
    variables: Variables,
    event: EntityEvent,
    headers: Readonly<Record<string, string>>,
  ): Promise<ExecutionResult>;
}

export function createExecutor({ schema, serviceMap, logger }: ExecutorOptions): Executor {
  const run = async (
    operation: PreparedOperation,
    plan: QueryPlan,
    variables: Variables,
    context: FetchContext,
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
      const errors = result.errors?.map((error) => maskUnexpected(error, logger));
      return errors ? { data: result.data ?? null, errors } : { data: result.data ?? null };
    } catch (error) {
      return { data: null, errors: [maskUnexpected(error, logger)] };
    }
  };

  return {
    coerceVariables(operation, inputs) {
      const definitions = operation.context.operation.variableDefinitions ?? [];
      const result = getVariableValues(schema.apiGraphQLSchema, definitions, { ...inputs });
      return result.errors ?? result.coerced;
    },
    subscriptionArguments(operation, variables) {
      const { field, fieldNode } = operation.subscription!;
      return getArgumentValues(field, fieldNode, variables);
    },
    execute(operation, variables, headers) {
      return run(operation, operation.plan, variables, { headers });
    },
    async resolveEvent(operation, variables, event, headers) {
      const responseKey = operation.subscription!.responseKey;
      const context: EventContext = { headers, event, responseKey, missing: [] };
      const result = await run(operation, operation.plan, variables, context);
      if (context.missing.length === 0) return result;
      const { __typename, ...key } = event;
      const notFound = context.missing.map(
        (subgraph) =>
          new GraphQLError(
            `${__typename} ${JSON.stringify(key)} was not found by subgraph "${subgraph}".`,
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
