import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { EventHub } from './events/event-hub.js';
import { PushQueue } from './events/push-queue.js';
import type { Executor, Variables } from './execution/executor.js';
import type { OperationCache, PreparedOperation } from './execution/operation.js';

/** A GraphQL request as every transport receives it. */
export interface GraphQLRequest {
  query?: string | null | undefined;
  operationName?: string | null | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
}

/** A request that is valid to run: planned, its variables coerced, its subject rendered. */
export interface PreparedRequest {
  readonly operation: PreparedOperation;
  readonly variables: Variables;
  /** For a subscription: the broker subject it listens on. */
  readonly subject?: string;
}

/** What transports call; it knows nothing of sockets or brokers. */
export interface RouterCore {
  /** The client-facing schema. */
  readonly schema: GraphQLSchema;
  prepare(request: GraphQLRequest): PreparedRequest | readonly GraphQLError[];
  execute(request: PreparedRequest): Promise<ExecutionResult>;
  /** Results until the client returns the iterator or the stream fails. */
  subscribe(
    request: PreparedRequest,
    hooks?: SubscribeHooks,
  ): AsyncIterableIterator<ExecutionResult>;
}

export interface SubscribeHooks {
  /**
   * Whether the client's connection holds bytes it has not taken (the OS buffer is full).
   * A subscriber over `slowSubscriberLimit` is dropped only then: if its connection is
   * clear, the router itself is behind and the client keeps everything. Without the hook
   * the limit alone decides.
   */
  isBackedUp?(): boolean;
  /**
   * The subscriber fell `slowSubscriberLimit` results behind and was dropped. A transport
   * closes its connection here; without the hook the iterator ends with the error.
   */
  onTooSlow?(): void;
  /**
   * The event stream failed (e.g. the broker ended the subscription). Called after the
   * results already queued, as the iterator ends; without the hook the iterator's last
   * result carries the error.
   */
  onFailure?(error: GraphQLError): void;
  /**
   * Writes a result, already serialized, straight to the client and calls `written` once
   * the OS has taken it. A transport that can frame a result from its JSON provides this:
   * each result is then serialized once for all the subscribers of its group, and the
   * iterator only ends. Results not yet written count towards `slowSubscriberLimit`.
   */
  write?(json: string, written: () => void): void;
}

export interface CoreOptions {
  schema: GraphQLSchema;
  operations: OperationCache;
  executor: Executor;
  hub: EventHub;
  /**
   * Results one subscriber may have waiting before it is dropped, if its connection is
   * backed up; ten times as many drop it regardless, to bound memory. @default 1000
   */
  slowSubscriberLimit?: number;
}

/** How far past its limit a subscriber whose connection is clear may fall behind. */
const HARD_LIMIT_FACTOR = 10;

export function createCore({
  schema,
  operations,
  executor,
  hub,
  slowSubscriberLimit = 1000,
}: CoreOptions): RouterCore {
  return {
    schema,
    prepare(request) {
      if (typeof request.query !== 'string' || request.query === '') {
        return [new GraphQLError('Missing query.', { extensions: { code: 'BAD_REQUEST' } })];
      }
      const operation = operations.prepare(request.query, request.operationName);
      if (isErrors(operation)) return operation;
      const variables = executor.coerceVariables(operation, request.variables);
      if (isErrors(variables)) return variables;
      if (!operation.subscription) return { operation, variables };
      const args = executor.subscriptionArguments(operation, variables);
      const subject = operation.subscription.binding.topic.render({ args });
      if (subject instanceof GraphQLError) return [subject];
      return { operation, variables, subject };
    },
    execute({ operation, variables }) {
      return executor.execute(operation, variables);
    },
    subscribe({ operation, variables, subject }, hooks = {}) {
      const binding = operation.subscription!.binding;
      const queue = new PushQueue<ExecutionResult>(() => leave());
      const { write } = hooks;
      let unwritten = 0;
      const written = (): void => void unwritten--;
      /** Hands a result to the client: written directly, or queued for the iterator. */
      const deliver = (result: ExecutionResult, json?: string): void => {
        if (!write) return queue.push(result);
        unwritten++;
        write(json ?? JSON.stringify(result), written);
      };
      const leave = hub.join(
        subject!,
        {
          key: `${operation.key}\u0000${JSON.stringify(variables)}`,
          validate: binding.validate,
          resolve: (event) => executor.resolveEvent(operation, variables, event),
        },
        {
          push: (delivery) => {
            const waiting = write ? unwritten : queue.size;
            if (waiting >= slowSubscriberLimit) {
              const backedUp = hooks.isBackedUp?.() ?? true;
              if (backedUp || waiting >= slowSubscriberLimit * HARD_LIMIT_FACTOR) return false;
            }
            deliver(delivery.result, write && delivery.json());
            return true;
          },
          end: (error) => {
            if (hooks.onFailure) queue.end(() => hooks.onFailure!(error));
            else {
              deliver({ errors: [error] });
              queue.end();
            }
          },
          tooSlow: () => {
            if (hooks.onTooSlow) {
              queue.end();
              hooks.onTooSlow();
            } else {
              deliver({ errors: [tooSlowError()] });
              queue.end();
            }
          },
        },
      );
      return queue;
    },
  };
}

export function isErrors<T>(value: T | readonly GraphQLError[]): value is readonly GraphQLError[] {
  return Array.isArray(value);
}

function tooSlowError(): GraphQLError {
  return new GraphQLError('This subscription fell too far behind its events and was closed.', {
    extensions: { code: 'SUBSCRIBER_TOO_SLOW' },
  });
}
