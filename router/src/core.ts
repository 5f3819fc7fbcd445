import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { identifyAnonymous, type Caller, type Credentials, type Identify } from './auth/caller.js';
import { hasExpired } from './auth/expiry.js';
import { CoreSubscription, type SubscriptionContext } from './core-subscription.js';
import { decodeCursor } from './events/cursor.js';
import type { EventHub, StartFrom } from './events/event-hub.js';
import type { RenderedFilter } from './events/event-filter.js';
import { TurnBudget } from './events/turn-budget.js';
import type { Executor, Variables } from './execution/executor.js';
import {
  noopInstrumentation,
  type Instrumentation,
  type Trace,
  type TransportName,
} from './instrumentation.js';
import { limitExceeded } from './execution/operation-limits.js';
import { jsonBytes } from './execution/request-size.js';
import type { OperationCache, PreparedOperation } from './execution/operation.js';
import type { Logger } from './logger.js';

/** A GraphQL request as every transport receives it. */
export interface GraphQLRequest {
  query?: string | null | undefined;
  operationName?: string | null | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  /** `{ cursor }` resumes a stream-backed subscription after that result. */
  extensions?: Readonly<Record<string, unknown>> | null | undefined;
}

/**
 * One loaded supergraph and what was built from it: its API schema, its operations (parsed,
 * validated and planned against it) and its executor (with its own entity batches). A
 * reload swaps the whole of it; what started on one finishes on it.
 */
export interface SchemaSnapshot {
  /** Counts up with each reload; fan-out groups of different versions never mix. */
  readonly version: number;
  readonly schema: GraphQLSchema;
  readonly operations: OperationCache;
  readonly executor: Executor;
}

/** What a reload did to the subscriptions open at the time. */
export interface SwapReport {
  /** Still valid against the new supergraph: moved to it without a gap. */
  readonly kept: number;
  /** No longer valid (or bound to another subject): told SCHEMA_CHANGED and completed. */
  readonly ended: number;
}

/** A request that is valid to run: planned, its variables coerced, its subject rendered. */
export interface PreparedRequest {
  /** The supergraph it was prepared against. */
  readonly snapshot: SchemaSnapshot;
  /** What the client sent, to prepare it again against a reloaded supergraph. */
  readonly request: GraphQLRequest;
  readonly operation: PreparedOperation;
  readonly variables: Variables;
  /** Who sent it. */
  readonly caller: Caller;
  /** For a subscription: the broker subject it listens on. */
  readonly subject?: string;
  /** For a stream-backed subscription: where it starts, when not from now. */
  readonly start?: StartFrom;
  /** For a field with `@eventsFilter`: the filter, rendered for this request. */
  readonly filter?: RenderedFilter;
  /** The request's trace, when the transport traces it; its execution is traced under it. */
  readonly trace?: Trace;
}

/** What transports call; it knows nothing of sockets or brokers. */
export interface RouterCore {
  /** The client-facing schema, of the supergraph served now. */
  readonly schema: GraphQLSchema;
  /**
   * Serves `next` to every request from now on, and moves each open subscription to it:
   * one still valid there keeps running without a gap or a duplicate, the others end with
   * a `SCHEMA_CHANGED` error.
   */
  swap(next: SchemaSnapshot): SwapReport;
  /**
   * The caller behind a request's credentials, or the `UNAUTHENTICATED` error that refuses
   * them. Never rejects.
   */
  identify(credentials: Credentials): Promise<Caller | GraphQLError>;
  /** `trace`: the request's, whose phases parsing, validating and planning become. */
  prepare(
    request: GraphQLRequest,
    caller: Caller,
    trace?: Trace,
  ): PreparedRequest | readonly GraphQLError[];
  execute(request: PreparedRequest): Promise<ExecutionResult>;
  /**
   * Settles once this turn of the event loop has room for one more operation to be
   * prepared and started, in the order asked. Streaming transports wait for it before each
   * operation: a crowd subscribing at once (clients reconnecting after a restart) starts
   * `OPERATIONS_PER_TURN` per turn, with the events already flowing in between, instead of
   * holding them all up.
   */
  turn(): Promise<void>;
  /**
   * Starts a subscription whose results go to `sink`. The iterator yields nothing and
   * finishes when the subscription ends; returning it (the client left) unsubscribes.
   */
  subscribe(
    request: PreparedRequest,
    sink: SubscriptionSink,
  ): AsyncIterableIterator<ExecutionResult>;
}

/** How a transport delivers one client's subscription. */
export interface SubscriptionSink {
  /** The protocol it is delivered over, for instrumentation. */
  readonly transport: TransportName;
  /**
   * Writes one result, serialized once for every subscriber of its group, and calls
   * `written` once the OS has taken it (or the connection is gone): once per result, in the
   * order they were written. `cursor` is the result's stream position, for stream-backed
   * fields (it is in the result's `extensions` too). Results not yet written count towards
   * `slowSubscriberLimit`.
   */
  write(json: string, written: () => void, cursor?: string): void;
  /**
   * Whether the client's connection holds bytes it has not taken (the OS buffer is full).
   * A subscriber over `slowSubscriberLimit` is dropped only then: if its connection is
   * clear, the router itself is behind and the client keeps everything.
   */
  isBackedUp(): boolean;
  /** The subscriber fell too far behind and was dropped: close its connection. */
  tooSlow(): void;
  /**
   * The event stream failed (e.g. the broker ended the subscription), just before the
   * iterator finishes. Without it the error is written as the last result.
   */
  failed?(error: GraphQLError): void;
  /**
   * The caller's token expired (`error`, TOKEN_EXPIRED), just before the iterator
   * finishes: a WebSocket tells the client, then closes its connection (4403), since
   * every operation on it has the same caller. Without it, the error is handled as by
   * `failed`.
   */
  expired?(error: GraphQLError): void;
  /** Runs once when the subscription has ended, however it ended. */
  closed?(): void;
}

export interface CoreOptions {
  /** The supergraph served first. */
  snapshot: SchemaSnapshot;
  hub: EventHub;
  logger: Logger;
  /** Who sends a request, from its credentials. @default everyone is anonymous */
  identify?: Identify;
  /** Where subscriptions opening and closing are reported. @default nothing is reported */
  instrumentation?: Instrumentation;
  /**
   * Results one subscriber may have waiting before it is dropped, if its connection is
   * backed up; ten times as many drop it regardless, to bound memory. @default 1000
   */
  slowSubscriberLimit?: number;
  /** The same bound in bytes of serialized results. @default 8388608 (8 MiB) */
  slowSubscriberMaxBytes?: number;
  /**
   * What one subscription may hold: its document, variables and extensions, in bytes as
   * JSON. A subscription is kept as long as its client stays. @default 16384
   */
  maxSubscriptionBytes?: number;
}

export function createCore({
  snapshot,
  hub,
  identify = identifyAnonymous,
  instrumentation = noopInstrumentation,
  slowSubscriberLimit = 1000,
  slowSubscriberMaxBytes = 8 * 1024 * 1024,
  maxSubscriptionBytes = 16_384,
  logger,
}: CoreOptions): RouterCore {
  let current = snapshot;
  const live = new Set<CoreSubscription>();
  const turns = new TurnBudget(OPERATIONS_PER_TURN);
  const prepare = (
    request: GraphQLRequest,
    caller: Caller,
    trace?: Trace,
    against: SchemaSnapshot = current,
  ): PreparedRequest | readonly GraphQLError[] => {
    const { operations, executor } = against;
    if (typeof request.query !== 'string' || request.query === '') {
      return [new GraphQLError('Missing query.', { extensions: { code: 'BAD_REQUEST' } })];
    }
    // A WebSocket's caller outlives its token; what it sends after expiry is refused.
    if (hasExpired(caller.expiresAt)) {
      return [
        new GraphQLError('The token has expired.', {
          extensions: { code: 'UNAUTHENTICATED', reason: 'expired' },
        }),
      ];
    }
    const operation = operations.prepare(request.query, request.operationName, caller, trace);
    if (isErrors(operation)) return operation;
    // Before the variables are coerced: what a subscription holds is held for its lifetime.
    if (
      operation.subscription &&
      requestBytes(request, maxSubscriptionBytes) > maxSubscriptionBytes
    ) {
      return [limitExceeded('maxSubscriptionBytes', maxSubscriptionBytes)];
    }
    const variables = executor.coerceVariables(operation, request.variables);
    if (isErrors(variables)) return variables;
    const prepared = trace
      ? { snapshot: against, request, operation, variables, caller, trace }
      : { snapshot: against, request, operation, variables, caller };
    if (!operation.subscription) return prepared;
    const args = executor.subscriptionArguments(operation, variables);
    const { binding } = operation.subscription;
    const context = { args, claims: caller.claims };
    const subject = binding.topic.render(context);
    if (subject instanceof GraphQLError) return [subject];
    const filter = binding.filter?.render(context);
    if (filter instanceof GraphQLError) return [filter];
    const bound = filter ? { ...prepared, subject, filter } : { ...prepared, subject };
    if (!binding.stream) return bound;
    const cursor = request.extensions?.['cursor'];
    if (cursor === undefined || cursor === null) {
      return binding.initial === 'LAST' ? { ...bound, start: 'last' } : bound;
    }
    const position = decodeCursor(cursor, binding.stream);
    if (position instanceof GraphQLError) return [position];
    return { ...bound, start: { after: position.sequence } };
  };
  const context: SubscriptionContext = {
    hub,
    live,
    slowSubscriberLimit,
    slowSubscriberMaxBytes,
    prepareAgain(prepared, next) {
      const { request, caller, subject, operation } = prepared;
      const binding = operation.subscription!.binding;
      // Its position is where it is now, not the cursor it once resumed from.
      const { cursor: _, ...extensions } = request.extensions ?? {};
      const again = prepare({ ...request, extensions }, caller, undefined, next);
      if (isErrors(again)) return again[0]!.message;
      const moved = again.operation.subscription!.binding;
      return again.subject !== subject ||
        moved.stream !== binding.stream ||
        moved.provider !== binding.provider
        ? 'its field is now bound to other events'
        : again;
    },
  };
  return {
    get schema() {
      return current.schema;
    },
    swap(next) {
      current = next;
      let kept = 0;
      let ended = 0;
      for (const subscription of [...live]) {
        if (subscription.move(next)) kept++;
        else ended++;
      }
      return { kept, ended };
    },
    async identify(credentials) {
      try {
        return await identify(credentials);
      } catch (error) {
        // A failure in the router is not the caller's fault, but nothing unverified gets in.
        logger.error({ err: error }, 'identifying a caller failed');
        return new GraphQLError('The credentials could not be verified.', {
          extensions: { code: 'UNAUTHENTICATED' },
        });
      }
    },
    prepare(request, caller, trace) {
      try {
        return prepare(request, caller, trace);
      } catch (error) {
        // Whatever failed, the client gets an error it can read and the router goes on.
        logger.error({ err: error }, 'preparing an operation failed');
        return [
          new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
        ];
      }
    },
    turn() {
      return turns.take(1);
    },
    execute({ snapshot, operation, variables, caller, trace }) {
      return snapshot.executor.execute(operation, variables, caller.forwardedHeaders, trace);
    },
    subscribe(prepared, sink) {
      const { name } = prepared.operation.subscription!.binding;
      const subscription = new CoreSubscription(
        context,
        prepared,
        sink,
        instrumentation.field(name),
      );
      subscription.start();
      return subscription.lifetime;
    },
  };
}

/**
 * Operations started per turn of the event loop (`RouterCore.turn`). Each costs about
 * 0.15 ms of CPU (parsing the message, preparing, joining its group), so 32 are some 5 ms.
 * In the resume benchmark (1,000 clients subscribing at once beside 1,000 subscribed), the
 * p99 of the subscribed clients' events was 48–69 ms in 12 of 14 runs with it (about
 * 290 ms in two), 66–325 ms in 9 runs without; 64 per turn did no better.
 */
export const OPERATIONS_PER_TURN = 32;

export function isErrors<T>(value: T | readonly GraphQLError[]): value is readonly GraphQLError[] {
  return Array.isArray(value);
}

/** The bytes of a request's document, variables and extensions, as JSON, up to `budget` + 1. */
function requestBytes({ query, variables, extensions }: GraphQLRequest, budget: number): number {
  const document = Buffer.byteLength(query ?? '');
  return document + jsonBytes([variables ?? null, extensions ?? null], budget - document);
}
