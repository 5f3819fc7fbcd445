import { describe, expect, it } from 'vitest';
import { buildSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import { noIntrospection } from './introspection.js';

const schema = buildSchema('type Query { user: User } type User { id: ID }');

function codes(query: string): unknown[] {
  return validate(schema, parse(query), [noIntrospection]).map((e) => e.extensions['code']);
}

describe('noIntrospection', () => {
  it('refuses __schema and __type, at the root and in fragments', () => {
    expect(codes(getIntrospectionQuery())).toContain('INTROSPECTION_DISABLED');
    expect(codes('{ __type(name: "User") { name } }')).toEqual(['INTROSPECTION_DISABLED']);
    expect(codes('{ ...F } fragment F on Query { __schema { queryType { name } } }')).toEqual([
      'INTROSPECTION_DISABLED',
    ]);
  });

  it('lets __typename and ordinary fields through', () => {
    expect(codes('{ __typename user { __typename id } }')).toEqual([]);
  });
});
