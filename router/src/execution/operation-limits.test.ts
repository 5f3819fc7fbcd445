import { describe, expect, it } from 'vitest';
import { buildSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import { DEFAULT_OPERATION_LIMITS, limitRules, type OperationLimits } from './operation-limits.js';

const schema = buildSchema(`
  type Query { user(id: ID): User }
  type User { id: ID name: String friend: User }
`);

function codes(query: string, limits: Partial<OperationLimits> = {}): unknown[] {
  const rules = limitRules({ ...DEFAULT_OPERATION_LIMITS, ...limits });
  return validate(schema, parse(query), rules).map((e) => e.extensions['code']);
}

const nested = (levels: number): string =>
  `{ user { ${'friend { '.repeat(levels - 2)}id${' }'.repeat(levels - 2)} } }`;

describe('operation limits', () => {
  it('lets introspection, as GraphiQL sends it, through the defaults', () => {
    expect(codes(getIntrospectionQuery())).toEqual([]);
  });

  it('counts depth through fields, inline fragments and spreads', () => {
    expect(codes(nested(15))).toEqual([]);
    expect(codes(nested(16))).toEqual(['MAX_DEPTH_EXCEEDED']);
    const viaFragments =
      '{ user { ...A } } fragment A on User { friend { ... on User { friend { ...B } } } } fragment B on User { friend { id } }';
    // The operation, user, friend (in A), friend (in the inline fragment), friend (in B).
    expect(codes(viaFragments, { maxDepth: 5 })).toEqual([]);
    expect(codes(viaFragments, { maxDepth: 4 })).toEqual(['MAX_DEPTH_EXCEEDED']);
  });

  it('measures a fragment spread many times once', () => {
    // 2^30 paths if every spread were walked again; memoized, it is instant.
    const fragments = Array.from(
      { length: 30 },
      (_, i) =>
        `fragment F${i} on User { friend { ...F${i + 1} } friend2: friend { ...F${i + 1} } }`,
    ).join(' ');
    const query = `{ user { ...F0 } } ${fragments} fragment F30 on User { id }`;
    expect(codes(query, { maxDepth: 100, maxAliases: 100 })).toEqual([]);
    expect(codes(query, { maxDepth: 10, maxAliases: 100 })).toEqual(['MAX_DEPTH_EXCEEDED']);
  });

  it('counts the root fields that fragments on the root type hold', () => {
    const fields = 'a: user { id } b: user { id } c: user { id }';
    const limits = { maxRootFields: 2 };
    expect(codes(`{ a: user { id } b: user { id } }`, limits)).toEqual([]);
    for (const query of [
      `{ ... on Query { ${fields} } }`,
      `{ ...F } fragment F on Query { ${fields} }`,
      `{ a: user { id } ...F } fragment F on Query { ... on Query { b: user { id } } ...G } fragment G on Query { c: user { id } }`,
      `query { ... { ${fields} } }`,
    ]) {
      expect(codes(query, limits), query).toEqual(['MAX_ROOT_FIELDS_EXCEEDED']);
    }
    // One response key is one root field, however many fragments or spreads repeat it.
    for (const query of [
      `{ ...F ...F ... on Query { ...F } } fragment F on Query { a: user { id } b: user { id } }`,
      `{ a: user { id } a: user { id } b: user { id } ... on Query { b: user { id } } }`,
    ]) {
      expect(codes(query, limits), query).toEqual([]);
    }
    // Fields below the root are not root fields, however many fragments hold them.
    expect(codes(`{ user { ...U } } fragment U on User { id name }`, limits)).toEqual([]);
  });

  it('refuses too many aliases, root fields and directives, each once, naming its limit', () => {
    const aliases = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: user { id }`).join(' ')} }`;
    expect(codes(aliases)).toEqual(['MAX_ROOT_FIELDS_EXCEEDED', 'MAX_ALIASES_EXCEEDED']);
    const roots = `{ ${Array.from({ length: 21 }, (_, i) => `r${i}: user { id }`).join(' ')} }`;
    expect(codes(roots)).toEqual(['MAX_ROOT_FIELDS_EXCEEDED']);
    const directives = `{ user { id ${'@include(if: true) '.repeat(51)} } }`;
    expect(codes(directives)).toEqual(['MAX_DIRECTIVES_EXCEEDED']);
    expect(
      validate(schema, parse(roots), limitRules(DEFAULT_OPERATION_LIMITS))[0]?.extensions,
    ).toEqual({ code: 'MAX_ROOT_FIELDS_EXCEEDED', limit: 'maxRootFields', max: 20 });
  });
});
