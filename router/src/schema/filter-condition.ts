/**
 * The shape of an `@eventsFilter(condition:)`, as Cosmo's subscription filters have it: each
 * condition is exactly one of `IN`, `AND`, `OR`, `NOT`. Read from the directive's argument
 * value, whatever composed it; what the paths and templates mean is checked against the
 * API schema when the field is bound (events/event-filter.ts).
 */

/** `fieldPath` (dot-separated field names in the field's return type) has one of `values`. */
export interface FieldCondition {
  readonly fieldPath: string;
  /** Literal text, or templates over `{{ args.<name> }}` and `{{ claims.<name> }}`. */
  readonly values: readonly string[];
}

export type FilterCondition =
  | { readonly IN: FieldCondition }
  | { readonly AND: readonly FilterCondition[] }
  | { readonly OR: readonly FilterCondition[] }
  | { readonly NOT: FilterCondition };

const FILTER_OPERATORS = ['IN', 'AND', 'OR', 'NOT'] as const;

/** Why a condition cannot be used, at which place in it (`condition.AND[1].IN`). */
export class FilterShapeError extends Error {
  override readonly name = 'FilterShapeError';
}

/** A GraphQL name, then `.` and another, and so on: `user.id`. */
const FIELD_PATH = /^[_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*)*$/;

/** Conditions nested deeper than this are refused: no real filter needs them. */
const MAX_DEPTH = 16;

/**
 * Reads a condition from an argument value.
 *
 * @param at where the value is, for errors
 * @throws FilterShapeError naming the place
 */
export function readFilterCondition(value: unknown, at = 'condition', depth = 0): FilterCondition {
  if (depth > MAX_DEPTH) throw new FilterShapeError(`${at}: nested deeper than ${MAX_DEPTH}`);
  // An operator given as null is not given (GraphQL lets a literal say `NOT: null`).
  const entries = Object.entries(asObject(value, at)).filter(([, operand]) => operand != null);
  const [first, second] = entries;
  if (!first || second) {
    throw new FilterShapeError(
      `${at}: must have exactly one of ${FILTER_OPERATORS.join(', ')}, not ${describeKeys(entries)}`,
    );
  }
  const [operator, operand] = first;
  const here = `${at}.${operator}`;
  switch (operator) {
    case 'IN':
      return { IN: readFieldCondition(operand, here) };
    case 'NOT':
      return { NOT: readFilterCondition(operand, here, depth + 1) };
    case 'AND':
    case 'OR': {
      if (!Array.isArray(operand) || operand.length === 0) {
        throw new FilterShapeError(`${here}: must be a non-empty list of conditions`);
      }
      const conditions = operand.map((item, i) =>
        readFilterCondition(item, `${here}[${i}]`, depth + 1),
      );
      return operator === 'AND' ? { AND: conditions } : { OR: conditions };
    }
    default:
      throw new FilterShapeError(
        `${at}: "${operator}" is not an operator (${FILTER_OPERATORS.join(', ')})`,
      );
  }
}

function readFieldCondition(value: unknown, at: string): FieldCondition {
  const { fieldPath, values, ...rest } = asObject(value, at);
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new FilterShapeError(`${at}: has ${extra.join(', ')}; only fieldPath and values`);
  }
  if (typeof fieldPath !== 'string' || !FIELD_PATH.test(fieldPath)) {
    throw new FilterShapeError(
      `${at}.fieldPath: must be field names joined by ".", e.g. "user.id", not ${JSON.stringify(fieldPath) ?? 'nothing'}`,
    );
  }
  if (!Array.isArray(values) || values.length === 0) {
    throw new FilterShapeError(`${at}.values: must be a non-empty list of strings`);
  }
  values.forEach((item: unknown, i) => {
    if (typeof item !== 'string') {
      throw new FilterShapeError(
        `${at}.values[${i}]: must be a string, not ${JSON.stringify(item)}`,
      );
    }
  });
  return { fieldPath, values: values as string[] };
}

function asObject(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FilterShapeError(
      `${at}: must be an object, not ${JSON.stringify(value) ?? 'nothing'}`,
    );
  }
  return value as Record<string, unknown>;
}

function describeKeys(entries: readonly [string, unknown][]): string {
  return entries.length === 0 ? 'none' : entries.map(([key]) => key).join(' and ');
}
