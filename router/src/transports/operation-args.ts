import type { ExecutionArgs } from 'graphql';
import type { PreparedRequest, SubscriptionSink } from '../core.js';

/** The `contextValue` that carries a prepared request through a protocol library. */
// A type literal, not an interface, so it satisfies the libraries' record constraints.
export type PreparedContext = {
  readonly prepared: PreparedRequest;
  /** Where a subscription's results go, for protocols that carry subscriptions. */
  readonly sink?: SubscriptionSink | undefined;
};

/**
 * graphql-http and graphql-ws hand the `ExecutionArgs` from their `onSubscribe` hook back
 * to `execute`/`subscribe`; the prepared request travels in `contextValue`.
 */
export function toExecutionArgs(
  prepared: PreparedRequest,
  sink?: SubscriptionSink,
): ExecutionArgs & { contextValue: PreparedContext } {
  return {
    schema: prepared.snapshot.schema,
    document: prepared.operation.document,
    operationName: prepared.operation.context.operation.name?.value ?? null,
    variableValues: prepared.variables,
    contextValue: { prepared, sink },
  };
}

export function fromExecutionArgs(args: ExecutionArgs): PreparedContext {
  return args.contextValue as PreparedContext;
}
