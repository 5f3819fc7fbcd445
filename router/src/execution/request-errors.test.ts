import { describe, expect, it } from 'vitest';
import { GraphQLError, parse, Source } from 'graphql';
import { withCode } from './request-errors.js';

describe('withCode', () => {
  it('adds the code and keeps the message, locations and other extensions', () => {
    const source = new Source('{\n  nope }');
    const error = new GraphQLError('Cannot query field "nope".', {
      source,
      positions: [4],
      extensions: { hint: 'h' },
    });
    const coded = withCode(error, 'GRAPHQL_VALIDATION_FAILED');
    expect(coded.toJSON()).toEqual({
      message: 'Cannot query field "nope".',
      locations: [{ line: 2, column: 3 }],
      extensions: { hint: 'h', code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it('keeps a code the error has already', () => {
    const error = new GraphQLError('too deep', {
      nodes: parse('{ a }').definitions,
      extensions: { code: 'MAX_DEPTH_EXCEEDED' },
    });
    expect(withCode(error, 'GRAPHQL_VALIDATION_FAILED')).toBe(error);
  });
});
