import {
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type ValidationRule,
} from 'graphql';
import {
  DEFAULT_OPERATION_LIMITS,
  limitExceeded,
  limitRules,
  type OperationLimits,
} from './operation-limits.js';
import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { PlanNode, QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { noopTrace, type PhaseName, type Trace } from '../instrumentation.js';
import type { LoadedSupergraph } from '../schema/supergraph.js';
import type { EventField } from '../events/event-field.js';

/** What Apollo's executor needs of an operation (not exported by @apollo/gateway). */
type OperationContext = ReturnType<typeof buildOperationContext>;

export type OperationKind = 'query' | 'mutation' | 'subscription';

/** A parsed, validated and planned operation, shared by every request that sends it. */
export interface PreparedOperation {
  /** Identifies the operation: its text and name. */
  readonly key: string;
  readonly kind: OperationKind;
  readonly document: DocumentNode;
  readonly context: OperationContext;
  /** For a subscription, the per-event plan: the events graph's fetch, then the rest. */
  readonly plan: QueryPlan;
  /** For a subscription, its root field and the event binding behind it. */
  readonly subscription?: PreparedSubscription;
}

export interface PreparedSubscription {
  readonly binding: EventField;
  readonly field: GraphQLField<unknown, unknown>;
  readonly fieldNode: FieldNode;
  /** Where the field's value sits in the result: its alias or its name. */
  readonly responseKey: string;
}

export interface OperationCacheOptions {
  schema: LoadedSupergraph;
  planner: QueryPlanner;
  eventFields: ReadonlyMap<string, EventField>;
  /** What one operation may hold. @default DEFAULT_OPERATION_LIMITS */
  limits?: OperationLimits;
  /** Prepared operations kept. @default 1000 */
  maxSize?: number;
  /**
   * Total length of the kept operations' text. A parsed and planned operation takes tens
   * of times its text in memory, so a bound on entries alone lets a few huge queries take
   * gigabytes. An operation longer than 1/64 of it is planned each time it comes and never
   * kept. @default 1048576 (1 MiB of text, about 40 MB in memory)
   */
  maxTextBytes?: number;
}

/** Parses, validates and plans operations once; the most recently used are kept. */
export class OperationCache {
  readonly #options: OperationCacheOptions;
  readonly #maxSize: number;
  readonly #maxTextBytes: number;
  readonly #limits: OperationLimits;
  readonly #limitRules: readonly ValidationRule[];
  readonly #entries = new Map<string, PreparedOperation>();
  /** The total length of the kept operations' keys (their text). */
  #textBytes = 0;

  constructor(options: OperationCacheOptions) {
    this.#options = options;
    this.#maxSize = options.maxSize ?? 1000;
    this.#maxTextBytes = options.maxTextBytes ?? 1024 * 1024;
    this.#limits = options.limits ?? DEFAULT_OPERATION_LIMITS;
    this.#limitRules = limitRules(this.#limits);
  }

  /** Operations kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The prepared operation, or the GraphQL errors that make the request invalid. Parsing,
   * validating and planning are phases of `trace`; one found in the cache has none.
   */
  prepare(
    query: string,
    operationName?: string | null,
    trace: Trace = noopTrace,
  ): PreparedOperation | readonly GraphQLError[] {
    const key = operationName ? `${operationName}\u0000${query}` : query;
    const cached = this.#entries.get(key);
    trace.annotate({ 'edfs.operation.cached': cached !== undefined });
    if (cached) {
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    const prepared = this.#build(key, query, operationName ?? undefined, trace);
    if (Array.isArray(prepared)) return prepared;
    if (key.length > this.#maxTextBytes / 64) return prepared;
    this.#entries.set(key, prepared as PreparedOperation);
    this.#textBytes += key.length;
    while (this.#entries.size > this.#maxSize || this.#textBytes > this.#maxTextBytes) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.#textBytes -= oldest.length;
    }
    return prepared;
  }

  #build(
    key: string,
    query: string,
    operationName: string | undefined,
    trace: Trace,
  ): PreparedOperation | GraphQLError[] {
    const { schema, planner } = this.#options;
    let document: DocumentNode;
    let errors: readonly GraphQLError[];
    try {
      document = inPhase(trace, 'parse', () => parse(query, { maxTokens: this.#limits.maxTokens }));
      errors = inPhase(trace, 'validate', () => {
        // The limits first: they are cheap, and they spare a huge document the full rules.
        const limited = validate(schema.apiGraphQLSchema, document, this.#limitRules);
        return limited.length > 0 ? limited : validate(schema.apiGraphQLSchema, document);
      });
    } catch (error) {
      // graphql-js parses and validates recursively: a deep enough nesting overflows the stack.
      if (error instanceof RangeError) return [tooDeep()];
      // graphql-js 16 says "more that N tokens"; a later version may fix the typo.
      if (error instanceof GraphQLError && /contains more th\w+ \d+ tokens/.test(error.message)) {
        return [limitExceeded('maxTokens', this.#limits.maxTokens)];
      }
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    if (errors.length > 0) return [...errors];
    let context: OperationContext;
    let plan: QueryPlan;
    const planning = trace.phase('plan');
    try {
      context = buildOperationContext({
        schema: schema.apiGraphQLSchema,
        operationDocument: document,
        ...(operationName ? { operationName } : {}),
      });
      const operation = operationFromDocument(schema.apiSchema, document, {
        ...(operationName ? { operationName } : {}),
      });
      plan = planner.buildQueryPlan(operation);
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    } finally {
      planning.end();
    }
    const kind = context.operation.operation as OperationKind;
    if (kind !== 'subscription') return { key, kind, document, context, plan };
    const subscription = this.#subscription(context);
    if (subscription instanceof GraphQLError) return [subscription];
    return { key, kind, document, context, plan: eventPlan(plan), subscription };
  }

  #subscription(context: OperationContext): PreparedSubscription | GraphQLError {
    const [selection] = context.operation.selectionSet.selections;
    // Validation allows exactly one root field, but it may sit in a fragment.
    const fieldNode = selection?.kind === Kind.FIELD ? selection : undefined;
    const type = this.#options.schema.apiGraphQLSchema.getSubscriptionType();
    const field = fieldNode && type?.getFields()[fieldNode.name.value];
    if (!fieldNode || !field) {
      return new GraphQLError('Select the subscription field directly, not through a fragment.', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    const binding = this.#options.eventFields.get(field.name);
    if (!binding) {
      return new GraphQLError(`Subscription.${field.name} has no @eventsSubscribe binding.`, {
        extensions: { code: 'SUBSCRIPTION_NOT_BOUND' },
      });
    }
    const responseKey = fieldNode.alias?.value ?? fieldNode.name.value;
    return { binding, field, fieldNode, responseKey };
  }
}

/** `step`, timed as a phase of `trace`. */
function inPhase<T>(trace: Trace, name: PhaseName, step: () => T): T {
  const phase = trace.phase(name);
  try {
    return step();
  } finally {
    phase.end();
  }
}

function tooDeep(): GraphQLError {
  return new GraphQLError('The operation is nested too deeply to be read.', {
    extensions: { code: 'BAD_REQUEST' },
  });
}

/**
 * Apollo's executor refuses a `Subscription` node; per event we run its parts in order.
 * The primary fetch reads the event from the events graph, the rest fetches the entities.
 */
function eventPlan(plan: QueryPlan): QueryPlan {
  const node = plan.node;
  if (node?.kind !== 'Subscription') return plan;
  const nodes: PlanNode[] = [node.primary, ...(node.rest ? [node.rest] : [])];
  return { kind: 'QueryPlan', node: { kind: 'Sequence', nodes } };
}
