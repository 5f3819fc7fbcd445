import { GraphQLError } from 'graphql';

/** Characters that would split or widen a NATS subject if they reached one. */
const notInSubjectToken = /[.*>\s]/;

function badInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument} ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argument },
  });
}

/**
 * Checks that `value` can stand as one token of a NATS subject (`room.<roomID>.messages`):
 * not empty, and without `.`, `*`, `>` or whitespace.
 *
 * @throws GraphQLError with `extensions.code` `BAD_USER_INPUT`.
 */
export function assertSubjectToken(argument: string, value: string): void {
  if (value === '') throw badInput(argument, 'must not be empty');
  if (notInSubjectToken.test(value)) {
    throw badInput(argument, 'must not contain ".", "*", ">" or whitespace');
  }
}

/**
 * Checks that `value` holds something other than whitespace.
 *
 * @throws GraphQLError with `extensions.code` `BAD_USER_INPUT`.
 */
export function assertNotBlank(argument: string, value: string): void {
  if (value.trim() === '') throw badInput(argument, 'must not be empty');
}
