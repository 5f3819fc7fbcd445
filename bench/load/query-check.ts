/** Whether a gateway's answer to a benchmark query is right: status 200, no errors, the expected data. */

/** What was wrong with an answer. */
export const answerFaults = ['network', 'status', 'body', 'errors', 'data'] as const;
export type AnswerFault = (typeof answerFaults)[number];

/** Checks answers against one expected `data`; most take the fast path of one string compare. */
export class AnswerChecker {
  readonly #expected: unknown;
  /** The answer as `JSON.stringify` writes it, which is how all three gateways write it. */
  readonly #exact: string;

  constructor(expectedData: unknown) {
    this.#expected = expectedData;
    this.#exact = JSON.stringify({ data: expectedData });
  }

  /** Undefined for a right answer, else what was wrong with it. */
  check(status: number, body: string): AnswerFault | undefined {
    if (status === 200 && body === this.#exact) return undefined;
    if (status !== 200) return 'status';
    let answer: { data?: unknown; errors?: unknown };
    try {
      answer = JSON.parse(body) as typeof answer;
    } catch {
      return 'body';
    }
    if (typeof answer !== 'object' || answer === null) return 'body';
    if (Array.isArray(answer.errors) && answer.errors.length > 0) return 'errors';
    return sameJson(answer.data, this.#expected) ? undefined : 'data';
  }
}

/** Deep equality of JSON values: object keys in any order, array items in order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}
