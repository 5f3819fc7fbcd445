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
import { noIntrospection } from './introspection.js';
import { normalizedOperation } from './normalize.js';
import { REQUEST_ERROR_CODES, withCode } from './request-errors.js';
import { reservedAliasError, withFilterSelections } from './filter-selections.js';
import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { PlanNode, QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { noopTrace, type PhaseName, type Trace } from '../instrumentation.js';
import type { LoadedSupergraph } from '../schema/supergraph.js';
import type { EventField } from '../events/event-field.js';
import { ANONYMOUS, type Caller } from '../auth/caller.js';
import { filterOperation, requirementsOf, unauthorizedError } from '../auth/filter.js';
import { isSatisfied, type Requirement } from '../auth/requirements.js';

/** What Apollo's executor needs of an operation (not exported by @apollo/gateway). */
type OperationContext = ReturnType<typeof buildOperationContext>;

export type OperationKind = 'query' | 'mutation' | 'subscription';

/**
 * A parsed, validated and planned operation, shared by every request that sends it with
 * the same rights over its fields.
 */
export interface PreparedOperation {
  /**
   * Identifies what decides the result: the operation's normalized text (see
   * `normalizedOperation`) and, when the caller may not see all of it, which of its
   * authorization requirements the caller meets.
   */
  readonly key: string;
  readonly kind: OperationKind;
  /** The operation as sent (results are shaped by it: a removed field comes back null). */
  readonly document: DocumentNode;
  /** What shapes its results: the operation, plus what the field's `@eventsFilter` reads. */
  readonly context: OperationContext;
  /**
   * The plan of what the caller may see. For a subscription, the per-event plan: the
   * events graph's fetch, then the rest.
   */
  readonly plan: QueryPlan;
  /** One `UNAUTHORIZED_FIELD_OR_TYPE` error per field removed for the caller; sent with every result. */
  readonly unauthorized: readonly GraphQLError[];
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
  /** Answer introspection (`__schema`, `__type`); off, such operations are refused. @default true */
  introspection?: boolean;
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

/** An operation's text parsed and validated once, and its plans per set of rights. */
interface CachedOperation {
  /** The text and operation name it was sent with: what finds it in the cache. */
  readonly key: string;
  /** What decides its results, for `PreparedOperation.key`. */
  readonly normalized: string;
  readonly operationName: string | undefined;
  readonly document: DocumentNode;
  readonly context: OperationContext;
  /** The authorization requirements its fields touch; none for most operations. */
  readonly requirements: readonly Requirement[];
  /** Without requirements, the one plan for everyone. */
  plain?: PreparedOperation | readonly GraphQLError[];
  /** With requirements, the plan per caller's answers to them (`"101"`: first and third met). */
  readonly variants: Map<string, PreparedOperation | readonly GraphQLError[]>;
}

/**
 * Plans kept per operation text. Each requirement met or not doubles the rights a caller
 * can have; callers come in few kinds, and a rare one past the bound is planned again.
 */
const MAX_VARIANTS = 16;

/**
 * Parses, validates and plans operations once; the most recently used are kept. An
 * operation touching `@authenticated` or `@requiresScopes` is planned once per set of
 * rights over it, without the fields a caller may not see.
 */
export class OperationCache {
  readonly #options: OperationCacheOptions;
  readonly #maxSize: number;
  readonly #maxTextBytes: number;
  readonly #limits: OperationLimits;
  readonly #limitRules: readonly ValidationRule[];
  readonly #entries = new Map<string, CachedOperation>();
  /** The total length of the kept operations' keys (their text). */
  #textBytes = 0;

  constructor(options: OperationCacheOptions) {
    this.#options = options;
    this.#maxSize = options.maxSize ?? 1000;
    this.#maxTextBytes = options.maxTextBytes ?? 1024 * 1024;
    this.#limits = options.limits ?? DEFAULT_OPERATION_LIMITS;
    this.#limitRules = [
      ...limitRules(this.#limits),
      ...(options.introspection === false ? [noIntrospection] : []),
    ];
  }

  /** Operations kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The prepared operation for this caller, or the GraphQL errors that make the request
   * invalid (or, for a subscription, unauthorized). Parsing, validating and planning are
   * phases of `trace`; what is found in the cache has none.
   */
  prepare(
    query: string,
    operationName?: string | null,
    caller: Caller = ANONYMOUS,
    trace: Trace = noopTrace,
  ): PreparedOperation | readonly GraphQLError[] {
    const name = operationName || undefined; // "" names no operation, as Apollo's planner takes it
    const key = name ? `${name}\u0000${query}` : query;
    let entry = this.#entries.get(key);
    trace.annotate({ 'edfs.operation.cached': entry !== undefined });
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else {
      const parsed = this.#parse(key, query, name, trace);
      if (Array.isArray(parsed)) return parsed;
      entry = parsed as CachedOperation;
      if (key.length <= this.#maxTextBytes / 64) this.#keep(entry);
    }
    if (entry.requirements.length === 0) return (entry.plain ??= this.#plan(entry, '', trace));
    const rights = entry.requirements.map((r) => (isSatisfied(r, caller) ? '1' : '0')).join('');
    const found = entry.variants.get(rights);
    if (found) return found;
    const planned = this.#plan(entry, rights, trace);
    if (entry.variants.size >= MAX_VARIANTS) {
      entry.variants.delete(entry.variants.keys().next().value!);
    }
    entry.variants.set(rights, planned);
    return planned;
  }

  #keep(entry: CachedOperation): void {
    this.#entries.set(entry.key, entry);
    this.#textBytes += entry.key.length;
    while (this.#entries.size > this.#maxSize || this.#textBytes > this.#maxTextBytes) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.#textBytes -= oldest.length;
    }
  }

  #parse(
    key: string,
    query: string,
    operationName: string | undefined,
    trace: Trace,
  ): CachedOperation | GraphQLError[] {
    const { schema } = this.#options;
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
      if (error instanceof GraphQLError) return [withCode(error, REQUEST_ERROR_CODES.parse)];
      throw error;
    }
    if (errors.length > 0) return errors.map((e) => withCode(e, REQUEST_ERROR_CODES.validation));
    let context: OperationContext;
    try {
      context = buildOperationContext({
        schema: schema.apiGraphQLSchema,
        operationDocument: document,
        ...(operationName ? { operationName } : {}),
      });
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    // Without a directive in the supergraph, no operation is walked for requirements.
    const requirements = schema.authorization.empty
      ? []
      : requirementsOf(schema.apiGraphQLSchema, schema.authorization, document, operationName);
    const normalized = normalizedOperation(document, operationName);
    return { key, normalized, operationName, document, context, requirements, variants: new Map() };
  }

  /** Plans what a caller with these `rights` (one digit per requirement) may see. */
  #plan(entry: CachedOperation, rights: string, trace: Trace): PreparedOperation | GraphQLError[] {
    const { schema, planner } = this.#options;
    const { operationName, context } = entry;
    const kind = context.operation.operation as OperationKind;
    let document = entry.document;
    let key = entry.normalized;
    let unauthorized: GraphQLError[] = [];
    let empty = false;
    if (rights.includes('0')) {
      const met = new Set(entry.requirements.filter((_, i) => rights[i] === '1'));
      const filtered = filterOperation(
        schema.apiGraphQLSchema,
        schema.authorization,
        entry.document,
        operationName,
        (requirement) => met.has(requirement),
      );
      document = filtered.document;
      key = `${entry.normalized}\u0000${rights}`;
      unauthorized = filtered.removed.map(unauthorizedError);
      empty = filtered.empty;
    }
    // A subscription with nothing left to see is refused before anything is subscribed.
    if (empty && kind === 'subscription') return unauthorized;
    // Without a Subscription type, planning refuses the operation and says why.
    const subscription =
      kind === 'subscription' && schema.apiGraphQLSchema.getSubscriptionType()
        ? this.#subscription(context)
        : undefined;
    if (subscription instanceof GraphQLError) return [subscription];
    // What the field's filter reads is fetched, and shaped into each result, as well.
    const filter = subscription?.binding.filter;
    let shaping = context;
    if (filter) {
      const reserved = reservedAliasError(entry.document);
      if (reserved) return [reserved];
      document = withFilterSelections(document, operationName, filter);
      shaping = buildOperationContext({
        schema: schema.apiGraphQLSchema,
        operationDocument: withFilterSelections(entry.document, operationName, filter),
        ...(operationName ? { operationName } : {}),
      });
    }
    let plan: QueryPlan;
    try {
      // With every root field removed, nothing is fetched: each comes back null.
      plan = empty
        ? { kind: 'QueryPlan' }
        : inPhase(trace, 'plan', () =>
            planner.buildQueryPlan(
              operationFromDocument(schema.apiSchema, document, {
                ...(operationName ? { operationName } : {}),
              }),
            ),
          );
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    const base = { key, kind, document: entry.document, context: shaping, unauthorized };
    if (!subscription) return { ...base, plan };
    return { ...base, plan: eventPlan(plan), subscription };
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
