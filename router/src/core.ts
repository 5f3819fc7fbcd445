import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { identifyAnonymous, type Caller, type Credentials, type Identify } from './auth/caller.js';
import { forwardedKey } from './auth/forwarded-headers.js';
import { hasExpired, onExpiry, tokenExpired } from './auth/expiry.js';
import { decodeCursor } from './events/cursor.js';
import type { EventHub, GroupSpec, StartFrom, Subscriber } from './events/event-hub.js';
import type { RenderedFilter } from './events/event-filter.js';
import { SubscriptionLifetime } from './events/lifetime.js';
import type { Executor, Variables } from './execution/executor.js';
import {
  noopInstrumentation,
  type Instrumentation,
  type Trace,
  type TransportName,
} from './instrumentation.js';
import type { OperationCache, PreparedOperation } from './execution/operation.js';
import { normalizedVariables } from './execution/normalize.js';
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
}

/** How far past its limit a subscriber whose connection is clear may fall behind. */
const HARD_LIMIT_FACTOR = 10;
/** A replay for a subscriber holding half its limit unwritten waits for its connection. */
const PACE_FACTOR = 0.5;

export function createCore({
  snapshot,
  hub,
  identify = identifyAnonymous,
  instrumentation = noopInstrumentation,
  slowSubscriberLimit = 1000,
  slowSubscriberMaxBytes = 8 * 1024 * 1024,
  logger,
}: CoreOptions): RouterCore {
  let current = snapshot;
  /** Subscriptions open now, each able to move itself to another supergraph. */
  const live = new Set<(next: SchemaSnapshot) => boolean>();
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
  /** The spec of a subscription's fan-out group: what decides its results, and how to resolve one. */
  const groupSpec = (prepared: PreparedRequest): GroupSpec => {
    const { snapshot, operation, variables, caller, filter } = prepared;
    const { binding, responseKey } = operation.subscription!;
    return {
      // Whatever decides the result is in the key: the supergraph, the operation, the
      // variables, what reaches the subgraphs and the rendered filter.
      key: `${snapshot.version}\u0000${operation.key}\u0000${normalizedVariables(variables)}\u0000${forwardedKey(caller.forwardedHeaders)}\u0000${filter?.key ?? ''}`,
      field: binding.name,
      provider: binding.provider,
      stream: binding.stream,
      validate: binding.validate,
      resolve: (event, trace) =>
        snapshot.executor
          .resolveEvent(operation, variables, event, caller.forwardedHeaders, trace)
          .then((result) => (filter ? filter.select(result, responseKey) : result)),
    };
  };
  return {
    get schema() {
      return current.schema;
    },
    swap(next) {
      current = next;
      let kept = 0;
      let ended = 0;
      for (const move of [...live]) {
        if (move(next)) kept++;
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
    execute({ snapshot, operation, variables, caller, trace }) {
      return snapshot.executor.execute(operation, variables, caller.forwardedHeaders, trace);
    },
    subscribe(prepared, sink) {
      const { operation, caller, subject, start } = prepared;
      const binding = operation.subscription!.binding;
      // A replay for this subscriber waits here while its connection is behind.
      const paused: (() => void)[] = [];
      const unpause = (): void => {
        for (const resume of paused.splice(0)) resume();
      };
      const instruments = instrumentation.field(binding.name);
      instruments.subscriptionOpened(sink.transport);
      const lifetime = new SubscriptionLifetime<ExecutionResult>(
        () => {
          leave();
          unpause();
        },
        () => {
          live.delete(move);
          cancelExpiry?.();
          instruments.subscriptionClosed(sink.transport);
          sink.closed?.();
        },
      );
      let cancelExpiry: (() => void) | undefined;
      // Results handed to the sink that the OS has not taken yet, and their size: a sink
      // reports its writes in order, so one callback takes the oldest size off the queue
      // (no closure per result on the fan-out's hot path).
      const unwrittenSizes: number[] = [];
      let unwrittenBytes = 0;
      const written = (): void => {
        unwrittenBytes -= unwrittenSizes.shift() ?? 0;
        if (paused.length > 0 && !behind(PACE_FACTOR)) unpause();
      };
      const write = (json: string, cursor?: string): void => {
        const bytes = byteLength(json);
        unwrittenSizes.push(bytes);
        unwrittenBytes += bytes;
        sink.write(json, written, cursor);
      };
      const behind = (factor: number): boolean =>
        unwrittenSizes.length >= slowSubscriberLimit * factor ||
        unwrittenBytes >= slowSubscriberMaxBytes * factor;
      const subscriber: Subscriber = {
        push: (serialize, cursor) => {
          if (behind(1) && (sink.isBackedUp() || behind(HARD_LIMIT_FACTOR))) return false;
          write(serialize(), cursor);
          return true;
        },
        writable: () =>
          behind(PACE_FACTOR) ? new Promise<void>((resume) => paused.push(resume)) : undefined,
        end: (error) => {
          if (sink.failed) sink.failed(error);
          else write(JSON.stringify({ errors: [error] }));
          lifetime.end();
          unpause();
        },
        tooSlow: () => {
          lifetime.end();
          unpause();
          sink.tooSlow();
        },
      };
      let spec = groupSpec(prepared);
      let leave = (): void => {};
      /** Moves it to a reloaded supergraph, or ends it there; true if it goes on. */
      const move = (next: SchemaSnapshot): boolean => {
        // Its position is where it is now, not the cursor it once resumed from.
        const { cursor: _, ...extensions } = prepared.request.extensions ?? {};
        const again = prepare(
          { ...prepared.request, extensions },
          prepared.caller,
          undefined,
          next,
        );
        const problem = isErrors(again)
          ? again[0]!.message
          : again.subject !== subject ||
              again.operation.subscription!.binding.stream !== binding.stream ||
              again.operation.subscription!.binding.provider !== binding.provider
            ? 'its field is now bound to other events'
            : undefined;
        if (problem !== undefined) {
          leave();
          subscriber.end(schemaChanged(problem));
          return false;
        }
        const nextSpec = groupSpec(again as PreparedRequest);
        const moved = hub.move(subject!, spec.key, nextSpec, subscriber);
        if (!moved) return true; // catching up on stored events: it finishes on the old one
        spec = nextSpec;
        leave = moved;
        return true;
      };
      live.add(move);
      // Last: the hub may end it at once (the broker refused), which takes it out of `live`.
      leave = hub.join(subject!, spec, subscriber, start);
      if (caller.expiresAt !== undefined && !lifetime.ended) {
        cancelExpiry = onExpiry(caller.expiresAt, () => {
          leave();
          const error = tokenExpired();
          if (sink.expired) sink.expired(error);
          else if (sink.failed) sink.failed(error);
          else write(JSON.stringify({ errors: [error] }));
          lifetime.end();
          unpause();
        });
      }
      return lifetime;
    },
  };
}

/**
 * UTF-8 size of a result. Every subscriber of a group is handed the same string one after
 * the other, so remembering the last one measures it once per group, not once per client.
 */
let lastJson = '';
let lastBytes = 0;
function byteLength(json: string): number {
  if (json !== lastJson) {
    lastJson = json;
    lastBytes = Buffer.byteLength(json);
  }
  return lastBytes;
}

/** A subscription the reloaded supergraph no longer serves as it was. */
function schemaChanged(reason: string): GraphQLError {
  return new GraphQLError(
    `The schema changed and this subscription is no longer valid: ${reason}`,
    { extensions: { code: 'SCHEMA_CHANGED' } },
  );
}

export function isErrors<T>(value: T | readonly GraphQLError[]): value is readonly GraphQLError[] {
  return Array.isArray(value);
}
