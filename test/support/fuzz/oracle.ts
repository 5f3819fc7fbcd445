/**
 * What an answer to hostile input must never be. Refusing it is right (4400, 400, 413, a
 * GraphQL error with a message); reaching the router's internal-error path is not: that
 * path is for the router's own faults, and input that gets there has escaped a check.
 */

/** graphql-ws's InternalServerError, and the WebSocket standard's. */
const INTERNAL_CLOSE_CODES = new Set([4500, 1011]);

export function internalClose(code: number, reason: string): string | undefined {
  return INTERNAL_CLOSE_CODES.has(code) ? `closed with ${code} "${reason}"` : undefined;
}

/** 5xx but 503, which the router sends only from `/health` while it has lost NATS. */
export function internalStatus(status: number): string | undefined {
  return status >= 500 && status !== 503 ? `HTTP ${status}` : undefined;
}

/**
 * Errors in a GraphQL result, an `errors` list, or a protocol message carrying either,
 * that come from the internal-error path: masked ("Unexpected error."), without a
 * message, or with a code that says the router or the broker failed.
 */
export function internalErrors(value: unknown): string | undefined {
  const errors = errorsOf(value);
  for (const error of errors ?? []) {
    if (typeof error !== 'object' || error === null) return `an error that is not an object`;
    const { message, extensions } = error as { message?: unknown; extensions?: { code?: unknown } };
    if (typeof message !== 'string' || message === '') {
      return `an error without a message: ${JSON.stringify(error).slice(0, 80)}`;
    }
    const code = extensions?.code;
    if (message === 'Unexpected error.' || code === 'INTERNAL_SERVER_ERROR') {
      return `an internal error: "${message}"`;
    }
    if (code === 'SUBSCRIPTION_FAILED') return `the broker ended a subscription: "${message}"`;
  }
  return undefined;
}

function errorsOf(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  // A result has `errors`; a protocol message or a multipart part wraps one in `payload`.
  const record = value as { errors?: unknown; payload?: unknown };
  if (Array.isArray(record.errors)) return record.errors;
  return record.payload === undefined ? undefined : errorsOf(record.payload);
}

/** Parses JSON text, or `undefined`: answers are checked, never trusted to be JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
