import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { QueryPlanner } from '@apollo/query-planner';
import { pino } from 'pino';
import { loadSupergraph } from '../schema/supergraph.js';
import { createExecutor } from './executor.js';
import { OperationCache, type PreparedOperation } from './operation.js';

const link =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

function supergraphSdl(): string {
  const { supergraphSdl, errors } = composeServices([
    {
      name: 'products',
      url: 'http://127.0.0.1:1/graphql',
      typeDefs: parse(`${link}
        type Query { product(upc: ID!): Product }
        type Product @key(fields: "upc") { upc: ID! name: String! }`),
    },
    {
      name: 'reviews',
      url: 'http://127.0.0.1:2/graphql',
      typeDefs: parse(`${link}
        type Product @key(fields: "upc") { upc: ID! reviewCount: Int! }`),
    },
  ]);
  if (errors) throw errors[0];
  return supergraphSdl;
}

function cache(sdl = supergraphSdl()) {
  const schema = loadSupergraph(sdl, 'events');
  const operations = new OperationCache({
    schema,
    planner: new QueryPlanner(schema.supergraph),
    eventFields: new Map(),
  });
  return { schema, operations };
}

const codes = (result: unknown): unknown =>
  (result as { extensions: Record<string, unknown> }[]).map((e) => e.extensions['code']);

describe('OperationCache', () => {
  it('gives a syntax error GRAPHQL_PARSE_FAILED, with its location', () => {
    const result = cache().operations.prepare('{ product(');
    expect(codes(result)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect((result as unknown as { locations: unknown }[])[0]!.locations).toEqual([
      { line: 1, column: 11 },
    ]);
  });

  it('gives validation errors GRAPHQL_VALIDATION_FAILED, and limits keep their own code', () => {
    const { operations } = cache();
    expect(codes(operations.prepare('{ nope product(upc: "1") { nope } }'))).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    const aliased = Array.from({ length: 31 }, (_, i) => `a${i}: upc`).join(' ');
    const aliases = `{ product(upc: "1") { ${aliased} } }`;
    expect(codes(operations.prepare(aliases))).toEqual(['MAX_ALIASES_EXCEEDED']);
  });

  it('lets a planner failure through as a thrown error, for the core to mask', () => {
    // Reviews knows Product by a field only it has: nothing leads there from products.
    const sdl = supergraphSdl().replace(
      '@join__type(graph: REVIEWS, key: "upc")',
      '@join__type(graph: REVIEWS, key: "reviewCount")',
    );
    const { operations } = cache(sdl);
    expect(() => operations.prepare('{ product(upc: "1") { reviewCount } }')).toThrow(
      /Was not able to find any options/,
    );
    expect(operations.prepare('{ product(upc: "1") { name } }')).toHaveProperty('kind', 'query');
  });
});

describe('coerceVariables', () => {
  it('gives a missing or wrong variable BAD_USER_INPUT', () => {
    const { schema, operations } = cache();
    const executor = createExecutor({ schema, serviceMap: {}, logger: pino({ level: 'silent' }) });
    const operation = operations.prepare(
      'query ($upc: ID!) { product(upc: $upc) { name } }',
    ) as PreparedOperation;
    expect(codes(executor.coerceVariables(operation, {}))).toEqual(['BAD_USER_INPUT']);
    expect(codes(executor.coerceVariables(operation, { upc: {} }))).toEqual(['BAD_USER_INPUT']);
    expect(executor.coerceVariables(operation, { upc: '1' })).toEqual({ upc: '1' });
  });
});
