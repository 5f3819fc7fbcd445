/**
 * `@eventsFilter`: which events of a subscription field a subscriber gets, decided on the
 * resolved result of its fan-out group. The condition reads fields of the field's return
 * type, which the router selects for itself under aliases of its own (see
 * execution/filter-selections.ts) and takes out of the result before anyone sees it, so a
 * filter works whatever the client selected. Checked once at start-up, rendered once per
 * subscription (its values may be templates over the arguments and the caller's claims),
 * evaluated once per group and event.
 */
import {
  getNamedType,
  GraphQLError,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type ExecutionResult,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { SchemaError } from '../errors.js';
import { withoutValueCompletionNotes } from '../execution/value-completion.js';
import type { FilterCondition } from '../schema/filter-condition.js';
import { parseTemplate, readClaim, TemplateSyntaxError, type TemplateSegment } from './template.js';
import type { TopicContext } from './topic.js';

/** Values one subscription's filter may have once rendered (a list argument gives many). */
export const MAX_FILTER_VALUES = 256;

/** One field path the filter reads, and the alias the router selects it under. */
export interface FilterSelection {
  /** Never a name a client can see: stripped from every result. */
  readonly alias: string;
  /** Field names from the field's return type to a leaf, e.g. `["user", "id"]`. */
  readonly path: readonly string[];
}

export interface EventFilter {
  /** What the router must select, under each of `typeConditions`, for the filter to read. */
  readonly selections: readonly FilterSelection[];
  /** The concrete types the field can return. */
  readonly typeConditions: readonly string[];
  /** Whether a value reads the caller's claims. */
  readonly readsClaims: boolean;
  /**
   * The filter of one subscription, its templates filled in, or the error refusing it:
   * `UNAUTHENTICATED` when a claim it reads is missing, `BAD_USER_INPUT` past
   * `MAX_FILTER_VALUES`.
   */
  render(context: TopicContext): RenderedFilter | GraphQLError;
}

export interface RenderedFilter {
  /** The rendered condition: subscribers with different ones never share a group. */
  readonly key: string;
  /**
   * The result for the subscribers, without the filter's own selections; `undefined` when
   * the event does not match. A result with no value for the field (the event could not be
   * resolved; it carries errors) goes to every subscriber, as without a filter.
   */
  select(result: ExecutionResult, responseKey: string): ExecutionResult | undefined;
}

/** How a leaf's values compare with the filter's text. */
type LeafKind = 'number' | 'boolean' | 'text';

/** A condition whose `IN` reads a selection of the filter's, with its values as `V`. */
type Tree<V> =
  | {
      readonly IN: {
        readonly alias: string;
        /** The path under the alias: the fieldPath less its first field. */
        readonly rest: readonly string[];
        readonly kind: LeafKind;
        readonly values: V;
      };
    }
  | { readonly AND: readonly Tree<V>[] }
  | { readonly OR: readonly Tree<V>[] }
  | { readonly NOT: Tree<V> };

/** Checked at start-up: each value still a template. */
type Compiled = Tree<readonly TemplateSegment[][]>;
/** For one subscription: the values its templates gave, as the field's type holds them. */
type Rendered = Tree<ReadonlySet<string | number>>;

/** Starts every alias of the filter's own selections; a client may not use it. */
export const FILTER_ALIAS_PREFIX = '__edfsFilter';

/**
 * Checks a condition against the field and compiles it.
 *
 * @param where names the field and directive in errors: `Subscription.x: @eventsFilter`
 * @throws SchemaError for a path not in the return type or not ending at a scalar or enum,
 * a template naming what is not an argument, or a literal a field of that type never has
 */
export function compileFilter(
  field: GraphQLField<unknown, unknown>,
  condition: FilterCondition,
  schema: GraphQLSchema,
  where: string,
  graph: string,
): EventFilter {
  const fail = (message: string, cause?: unknown): never => {
    throw new SchemaError(`${where}: ${message}`, graph, cause ? { cause } : undefined);
  };
  const returned = getNamedType(field.type);
  const types = isAbstractType(returned)
    ? schema.getPossibleTypes(returned)
    : isObjectType(returned)
      ? [returned]
      : [];
  const selections: (FilterSelection & { readonly kind: LeafKind })[] = [];
  const argTypes = new Map(field.args.map((arg) => [arg.name, arg.type]));
  let readsClaims = false;

  const selectionOf = (fieldPath: string): FilterSelection & { kind: LeafKind } => {
    let selection = selections.find((s) => s.path.join('.') === fieldPath);
    if (!selection) {
      const path = fieldPath.split('.');
      const leaves = new Set(types.map((type) => leafOf(type, path, fieldPath, fail)));
      const [leaf, other] = [...leaves];
      if (!leaf) return fail(`"${fieldPath}": ${returned.name} is not an object type`);
      if (other) {
        fail(
          `"${fieldPath}" is ${[...leaves].map((l) => l.name).join(' or ')}; it must be one type`,
        );
      }
      selection = {
        alias: `${FILTER_ALIAS_PREFIX}${selections.length}`,
        path,
        kind: kindOf(leaf!),
      };
      selections.push(selection);
    }
    return selection;
  };

  const valueOf = (template: string, kind: LeafKind, at: string): TemplateSegment[] => {
    let segments: TemplateSegment[];
    try {
      segments = parseTemplate(template, [...argTypes.keys()]);
    } catch (cause) {
      if (!(cause instanceof TemplateSyntaxError)) throw cause;
      return fail(`${at} "${template}": ${cause.message}`, cause);
    }
    for (const segment of segments) {
      if ('claim' in segment) readsClaims = true;
      if (!('arg' in segment)) continue;
      const type = unwrapNonNull(argTypes.get(segment.arg)!);
      const item = isListType(type) ? unwrapNonNull(type.ofType) : type;
      if (!isLeafType(item)) {
        fail(
          `${at} "${template}": argument "${segment.arg}" must be a scalar, an enum or a list of them`,
        );
      }
      if (isListType(type) && segments.length > 1) {
        fail(`${at} "${template}": the list argument "${segment.arg}" must be the whole value`);
      }
    }
    const literal = segments.every((s) => 'text' in s) ? template : undefined;
    if (literal !== undefined && normalize(kind, literal) === undefined) {
      fail(`${at} "${literal}" is never the value of a field of that type (${kind})`);
    }
    return segments;
  };

  const compile = (node: FilterCondition, at: string): Compiled => {
    if ('IN' in node) {
      const { alias, path, kind } = selectionOf(node.IN.fieldPath);
      const values = node.IN.values.map((value, i) =>
        valueOf(value, kind, `${at}.IN.values[${i}]`),
      );
      return { IN: { alias, rest: path.slice(1), kind, values } };
    }
    if ('NOT' in node) return { NOT: compile(node.NOT, `${at}.NOT`) };
    if ('AND' in node) return { AND: node.AND.map((c, i) => compile(c, `${at}.AND[${i}]`)) };
    return { OR: node.OR.map((c, i) => compile(c, `${at}.OR[${i}]`)) };
  };

  const compiled = compile(condition, 'condition');
  const fieldName = `Subscription.${field.name}`;
  return {
    selections: selections.map(({ alias, path }) => ({ alias, path })),
    typeConditions: types.map((type) => type.name),
    readsClaims,
    render(context) {
      let count = 0;
      const render = (node: Compiled): Rendered | GraphQLError => {
        if ('IN' in node) {
          const { values, ...rest } = node.IN;
          const set = new Set<string | number>();
          for (const segments of values) {
            const texts = renderValue(segments, context, fieldName);
            if (texts instanceof GraphQLError) return texts;
            count += texts.length;
            if (count > MAX_FILTER_VALUES) return tooManyValues(fieldName, count);
            for (const text of texts) {
              const value = normalize(node.IN.kind, text);
              if (value !== undefined) set.add(value);
            }
          }
          return { IN: { ...rest, values: set } };
        }
        if ('NOT' in node) {
          const inner = render(node.NOT);
          return inner instanceof GraphQLError ? inner : { NOT: inner };
        }
        const operands: Rendered[] = [];
        for (const operand of 'AND' in node ? node.AND : node.OR) {
          const inner = render(operand);
          if (inner instanceof GraphQLError) return inner;
          operands.push(inner);
        }
        return 'AND' in node ? { AND: operands } : { OR: operands };
      };
      const rendered = render(compiled);
      return rendered instanceof GraphQLError ? rendered : renderedFilter(rendered, selections);
    },
  };
}

function tooManyValues(field: string, count: number): GraphQLError {
  return new GraphQLError(
    `The arguments of "${field}" give its filter more than ${MAX_FILTER_VALUES} values (${count} so far).`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );
}

/** The leaf type at `path` from `type`, through object and interface fields (lists allowed). */
function leafOf(
  type: GraphQLNamedType,
  path: readonly string[],
  fieldPath: string,
  fail: (message: string) => never,
): GraphQLNamedType {
  let current = type;
  for (const name of path) {
    if (!isObjectType(current) && !isInterfaceType(current)) {
      return fail(`"${fieldPath}": ${current.name} has no fields (at "${name}")`);
    }
    const next = current.getFields()[name];
    if (!next) return fail(`"${fieldPath}": ${current.name} has no field "${name}"`);
    current = getNamedType(next.type);
  }
  if (!isLeafType(current)) {
    return fail(`"${fieldPath}" is ${current.name}; it must end at a scalar or an enum`);
  }
  return current;
}

function kindOf(leaf: GraphQLNamedType): LeafKind {
  if (leaf.name === 'Int' || leaf.name === 'Float') return 'number';
  return leaf.name === 'Boolean' ? 'boolean' : 'text';
}

function unwrapNonNull(type: GraphQLInputType): GraphQLInputType {
  return isNonNullType(type) ? type.ofType : type;
}

/**
 * A filter value's text as a field of that kind holds it: a number for Int and Float
 * (`"3"` and `"3.0"` are 3), `"true"` or `"false"` for Boolean, the text itself otherwise;
 * `undefined` for text no such field ever holds.
 */
function normalize(kind: LeafKind, text: string): string | number | undefined {
  if (kind === 'text') return text;
  if (kind === 'boolean') return text === 'true' || text === 'false' ? text : undefined;
  const number = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * The texts one value renders to: none for an argument that is null or absent (Cosmo's
 * rule: it matches nothing), one per item for a list given as the whole value.
 */
function renderValue(
  segments: readonly TemplateSegment[],
  { args, claims }: TopicContext,
  field: string,
): string[] | GraphQLError {
  const parts: unknown[] = [];
  for (const segment of segments) {
    if ('text' in segment) {
      parts.push(segment.text);
    } else if ('arg' in segment) {
      // Coerced by GraphQL, and checked at start-up to be a scalar, an enum or a list of them.
      const value = args[segment.arg];
      if (value === undefined || value === null) return [];
      parts.push(value);
    } else {
      const value = readClaim(claims, segment.claim, field, 'its filter');
      if (value instanceof GraphQLError) return value;
      const items = Array.isArray(value) && segments.length === 1 ? value : [value];
      if (!items.every((item) => typeof item === 'string' || typeof item === 'number')) {
        return new GraphQLError(
          `The token's "${segment.claim}" claim cannot fill in the filter of "${field}": it must be a string or a number, or a list of them.`,
          { extensions: { code: 'UNAUTHENTICATED', claim: segment.claim } },
        );
      }
      parts.push(value);
    }
  }
  const [only] = parts;
  if (parts.length === 1 && Array.isArray(only)) {
    return only.filter((item) => item !== undefined && item !== null).map(String);
  }
  return [parts.map(String).join('')];
}

function renderedFilter(
  condition: Rendered,
  selections: readonly FilterSelection[],
): RenderedFilter {
  const key = JSON.stringify(condition, (_, value: unknown) =>
    value instanceof Set ? [...(value as Set<unknown>)] : value,
  );
  const aliases = selections.map((s) => s.alias);
  const hidden = (path: readonly (string | number)[] | undefined): boolean =>
    path !== undefined && aliases.includes(path[1] as string);
  return {
    key,
    select(result, responseKey) {
      const data = result.data;
      const root = data?.[responseKey];
      if (!data || typeof root !== 'object' || root === null) return result;
      if (!matches(condition, root as Record<string, unknown>)) return undefined;
      const visible = { ...(root as Record<string, unknown>) };
      for (const alias of aliases) delete visible[alias];
      const { errors, extensions, ...rest } = result;
      const shown = errors?.filter((error) => !hidden(error.path));
      const notes = withoutValueCompletionNotes(extensions, hidden);
      return {
        ...rest,
        data: { ...data, [responseKey]: visible },
        ...(shown?.length ? { errors: shown } : {}),
        ...(notes ? { extensions: notes } : {}),
      };
    },
  };
}

function matches(condition: Rendered, root: Readonly<Record<string, unknown>>): boolean {
  if ('AND' in condition) return condition.AND.every((c) => matches(c, root));
  if ('OR' in condition) return condition.OR.some((c) => matches(c, root));
  if ('NOT' in condition) return !matches(condition.NOT, root);
  const { alias, rest, kind, values } = condition.IN;
  return leaves(root[alias], rest).some((leaf) => {
    if (kind === 'number') return typeof leaf === 'number' && values.has(leaf);
    if (kind === 'boolean') return typeof leaf === 'boolean' && values.has(String(leaf));
    return (typeof leaf === 'string' || typeof leaf === 'number') && values.has(String(leaf));
  });
}

/** Every leaf value at `path` under `value`, through lists; none past a null. */
function leaves(value: unknown, path: readonly string[]): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, path));
  const [name, ...rest] = path;
  if (name === undefined) return [value];
  return typeof value === 'object' ? leaves((value as Record<string, unknown>)[name], rest) : [];
}
