import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { pino } from 'pino';
import { composeSupergraph } from '@edfs/router';
import {
  startFederationSubgraphs,
  type FederationSubgraphs,
} from './support/federation/subgraphs.js';
import { startApolloGateway, startRouterOn, type Endpoint } from './support/federation/gateways.js';
import { closedPort } from './support/routers.js';

interface Body {
  data?: unknown;
  errors?: {
    message: string;
    path?: unknown;
    locations?: unknown;
    extensions?: { code?: unknown };
  }[];
}

type Accept = 'application/json' | 'application/graphql-response+json';

async function send(
  url: string,
  query: string | undefined,
  variables?: Record<string, unknown>,
  operationName?: string,
  accept: Accept = 'application/json',
): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables, operationName }),
  });
  // Never an empty body: JSON.parse('') throws.
  return { status: response.status, body: JSON.parse(await response.text()) as Body };
}

/** What a client reads from each error: its message, locations and code. */
function readable(body: Body): unknown {
  return body.errors?.map(({ message, locations, extensions }) => ({
    message,
    locations,
    code: extensions?.code,
  }));
}

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

const cases: Case[] = [
  {
    name: 'entity join across three subgraphs',
    query: '{ topProducts { upc name price inStock reviews { body author { name } } } }',
  },
  { name: '@requires with a flat field set', query: '{ topProducts { name shippingEstimate } }' },
  {
    name: '@requires with a nested field set',
    query: '{ topProducts { name shippingClass dimensions { unit } } }',
  },
  {
    name: '@provides: the username comes with the review',
    query: '{ latestReviews { body author { id username } } }',
  },
  {
    name: '@provides beside a field it does not provide',
    query: '{ latestReviews(first: 2) { author { username name memberSince } } }',
  },
  {
    name: '@shareable value type from two subgraphs',
    query: '{ product(upc: "1") { dimensions { width height unit } shippingClass } }',
  },
  {
    name: 'interface with fragments on its implementations',
    query:
      '{ media { __typename id title ... on Book { author } ... on Movie { director minutes } } }',
  },
  {
    name: '@interfaceObject fields on an interface entity',
    query: '{ media { title reviews { body author { name } } ... on Book { author } } }',
  },
  {
    name: 'union with inline fragments',
    query:
      '{ search(text: "ta") { __typename ... on Product { upc name inStock } ... on Brand { name country } } }',
  },
  {
    name: 'nested lists of entities',
    query:
      '{ user(id: "1") { name reviews { product { name reviews { author { username } } } } } }',
  },
  {
    name: 'a nullable field failing in the root subgraph',
    query: '{ product(upc: "1") { name flaky } }',
  },
  {
    name: 'a nullable field failing in an entity fetch',
    query: '{ topProducts { upc stockNote } }',
  },
  {
    name: 'a non-null field failing: the null bubbles to its parent',
    query: '{ product(upc: "3") { name restockDays } }',
  },
  {
    name: 'a non-null failure inside a non-null list',
    query: '{ me { name } topProducts { upc restockDays } }',
  },
  {
    name: 'a mutation with variables',
    query:
      'mutation Create($input: ProductInput!) { createProduct(input: $input) { upc name category inStock shippingEstimate } }',
    variables: { input: { upc: '7', name: 'Lamp', price: 40, category: 'FURNITURE' } },
  },
  {
    name: 'mutation fields run one after the other',
    query: `mutation {
      p: createProduct(input: { upc: "9", name: "Stool", price: 30, category: FURNITURE }) { upc }
      r: addReview(input: { upc: "9", authorID: "2", body: "Fine.", rating: 3 }) {
        id body product { name reviewCount } author { username name }
      }
    }`,
  },
  {
    name: 'variables and aliases',
    query:
      'query Top($first: Int, $cat: Category) { cheap: topProducts(first: $first, category: $cat) { id: upc title: name stock: inStock } other: product(upc: "4") { name } }',
    variables: { first: 2, cat: 'FURNITURE' },
  },
  {
    name: '@skip and @include',
    query:
      'query ($withReviews: Boolean!, $noPrice: Boolean!) { topProducts(first: 2) { name price @skip(if: $noPrice) inStock @include(if: $withReviews) reviews @include(if: $withReviews) { rating } } }',
    variables: { withReviews: true, noPrice: true },
  },
  {
    name: '__typename at every level',
    query:
      '{ __typename topProducts(first: 1) { __typename reviews { __typename author { __typename } } } }',
  },
  {
    name: 'an enum and a custom scalar',
    query:
      '{ topProducts(category: FURNITURE) { category releasedAt reviews { createdAt } } product(upc: "3") { releasedAt } }',
  },
  {
    // The subgraph answers a value the API schema does not have (an @inaccessible enum
    // value): the field is null, and extensions.valueCompletion says why.
    name: 'a subgraph value the API schema cannot show',
    query: '{ product(upc: "5") { name category } }',
  },
  {
    name: 'full introspection',
    query: getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      inputValueDeprecation: true,
    }),
  },
  { name: 'an entity that does not exist', query: '{ product(upc: "404") { name inStock } }' },
  {
    name: 'named fragments',
    query:
      'query { topProducts(first: 2) { ...P reviews { author { ...U } } } } fragment P on Product { upc name } fragment U on User { id username }',
  },
  {
    name: 'operationName picks one of several operations',
    query: 'query A { me { name } } query B { product(upc: "2") { name inStock } }',
    operationName: 'B',
  },
  {
    name: 'introspection hides @inaccessible fields',
    query: '{ __type(name: "Product") { fields { name } } }',
  },
];

describe('a supergraph without an events graph, beside Apollo Gateway', () => {
  let subgraphs: FederationSubgraphs;
  let gateway: Endpoint;
  let router: Endpoint;
  beforeAll(async () => {
    subgraphs = await startFederationSubgraphs();
    const supergraphSdl = composeSupergraph(subgraphs.sources);
    [gateway, router] = await Promise.all([
      startApolloGateway(supergraphSdl),
      startRouterOn(supergraphSdl),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway?.close(), router?.close()]);
    await subgraphs?.close();
  });

  it.each(cases)('$name', async ({ query, variables, operationName }) => {
    const theirs = await send(gateway.url, query, variables, operationName);
    const ours = await send(router.url, query, variables, operationName);
    // The whole body: data, and every error's message, path and extensions.
    expect(ours.body).toEqual(theirs.body);
    expect(ours.status).toBe(theirs.status);
  });
});

/** Requests that fail before anything runs: the same errors, and where the status differs, why. */
const refused: (Case & { spec?: 'status' | 'operation' })[] = [
  { name: 'a syntax error', query: '{ topProducts { ' },
  { name: 'an unknown field', query: '{ nope }' },
  { name: 'an @inaccessible field', query: '{ product(upc: "1") { secretCode } }' },
  {
    name: 'a missing required variable',
    query: 'query ($u: ID!) { product(upc: $u) { name } }',
  },
  {
    name: 'a variable of the wrong type',
    query: 'query ($u: ID!) { product(upc: $u) { name } }',
    variables: { u: { a: 1 } },
  },
  {
    name: 'an enum variable with an unknown value',
    query: 'query ($c: Category) { topProducts(category: $c) { name } }',
    variables: { c: 'NOPE' },
  },
  {
    name: 'an input object missing fields',
    query: 'mutation { createProduct(input: { upc: "1" }) { upc } }',
  },
  {
    name: 'an unknown operationName',
    query: 'query A { me { name } }',
    operationName: 'B',
    spec: 'operation',
  },
  {
    name: 'two operations and no operationName',
    query: 'query A { me { name } } query B { me { name } }',
    spec: 'operation',
  },
];

describe('requests refused before they run, beside Apollo Gateway', () => {
  let subgraphs: FederationSubgraphs;
  let gateway: Endpoint;
  let router: Endpoint;
  beforeAll(async () => {
    subgraphs = await startFederationSubgraphs();
    const supergraphSdl = composeSupergraph(subgraphs.sources);
    [gateway, router] = await Promise.all([
      startApolloGateway(supergraphSdl),
      startRouterOn(supergraphSdl),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway?.close(), router?.close()]);
    await subgraphs?.close();
  });

  it.each(refused)('$name', async ({ query, variables, operationName, spec }) => {
    for (const accept of ['application/json', 'application/graphql-response+json'] as const) {
      const theirs = await send(gateway.url, query, variables, operationName, accept);
      const ours = await send(router.url, query, variables, operationName, accept);
      // Message, locations and code (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
      // BAD_USER_INPUT, INVALID_GRAPHQL) as Apollo gives them.
      expect(readable(ours.body)).toEqual(readable(theirs.body));
      expect(ours.body.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
      expect(ours.body.data).toBeUndefined();
      // The status is where we differ, on purpose. The GraphQL over HTTP spec: a request
      // error is 200 for application/json (older clients read the body only on a 200) and
      // 4xx for application/graphql-response+json. Apollo answers 400 for both, and 500 for
      // an operation name that does not match: the client's mistake, not a server fault.
      expect(ours.status).toBe(accept === 'application/json' ? 200 : 400);
      expect(theirs.status).toBe(spec === 'operation' ? 500 : 400);
    }
  });

  it('a request without a query: BAD_REQUEST, as from Apollo', async () => {
    const theirs = await send(gateway.url, undefined);
    const ours = await send(router.url, undefined);
    expect([ours.status, theirs.status]).toEqual([400, 400]);
    // graphql-http's message, Apollo's code.
    expect(ours.body).toEqual({
      errors: [{ message: 'Missing query', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(theirs.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });
});

describe('a query planner failure', () => {
  let subgraphs: FederationSubgraphs;
  let gateway: Endpoint;
  let router: Endpoint;
  const logged: string[] = [];
  beforeAll(async () => {
    subgraphs = await startFederationSubgraphs();
    // A supergraph no composer would write, as a hand edit or another tool can: reviews
    // knows Product by a key only it has, so nothing leads from products to reviews and
    // the planner throws "Was not able to find any options…" for Product.reviews. The
    // supergraph itself loads, and every other operation plans.
    const supergraphSdl = composeSupergraph(subgraphs.sources).replace(
      '@join__type(graph: REVIEWS, key: "upc")',
      '@join__type(graph: REVIEWS, key: "reviewCount")',
    );
    expect(supergraphSdl).toContain('key: "reviewCount"');
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    [gateway, router] = await Promise.all([
      startApolloGateway(supergraphSdl),
      startRouterOn(supergraphSdl, logger),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway?.close(), router?.close()]);
    await subgraphs?.close();
  });

  it.each(['application/json', 'application/graphql-response+json'] as const)(
    'is a JSON INTERNAL_SERVER_ERROR with status 500 (%s)',
    async (accept) => {
      const query = '{ topProducts { name reviews { body } } }';
      const theirs = await send(gateway.url, query, undefined, undefined, accept);
      logged.length = 0;
      const ours = await send(router.url, query, undefined, undefined, accept);
      expect(ours).toEqual({
        status: 500,
        body: {
          errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        },
      });
      // Apollo sends the planner's own message to the client; we log it, once, and send a
      // line that tells a client nothing about the router's insides (see DESIGN: errors).
      expect(theirs.status).toBe(500);
      expect(theirs.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(theirs.body.errors?.[0]?.message).toMatch(/^Was not able to find any options/);
      expect(
        logged.filter((line) => line.includes('Was not able to find any options')),
      ).toHaveLength(1);
      // The rest of the supergraph is served.
      const fine = await send(router.url, '{ product(upc: "1") { name inStock } }');
      expect(fine).toEqual({
        status: 200,
        body: { data: { product: { name: 'Table', inStock: true } } },
      });
    },
  );
});

describe('a subgraph that fails, beside Apollo Gateway', () => {
  let subgraphs: FederationSubgraphs;
  let failing: Server;
  let closed: number;
  beforeAll(async () => {
    subgraphs = await startFederationSubgraphs();
    closed = await closedPort();
    failing = createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"message":"database password rejected for db.internal:5432"}]}');
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    failing?.closeAllConnections();
    await new Promise((resolve) => failing?.close(resolve));
    await subgraphs?.close();
  });

  it.each(['refuses connections', 'answers HTTP 500'] as const)(
    'inventory %s: the same data, and an error that names the subgraph, not its insides',
    async (how) => {
      const url =
        how === 'refuses connections'
          ? `http://127.0.0.1:${closed}/graphql`
          : `http://127.0.0.1:${(failing.address() as AddressInfo).port}/graphql`;
      const supergraphSdl = composeSupergraph(
        subgraphs.sources.map((source) =>
          source.name === 'inventory' ? { ...source, url } : source,
        ),
      );
      const [gateway, router] = await Promise.all([
        startApolloGateway(supergraphSdl),
        startRouterOn(supergraphSdl),
      ]);
      try {
        const query = '{ product(upc: "1") { name inStock } me { name } }';
        const theirs = await send(gateway.url, query);
        const ours = await send(router.url, query);
        expect(ours.status).toBe(theirs.status);
        expect(ours.body.data).toEqual(theirs.body.data);
        expect(ours.body.data).toEqual({ product: null, me: { name: 'Ada Lovelace' } });
        // Apollo passes on the subgraph's URL, status and body as INTERNAL_SERVER_ERROR; a
        // client learns the router's network and whatever the subgraph leaked. Ours says
        // which subgraph failed, with a code a client can act on; the details are logged.
        expect(ours.body.errors).toEqual([
          {
            message: 'Subgraph "inventory" is unavailable.',
            extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory' },
          },
        ]);
        expect(theirs.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(JSON.stringify(theirs.body.errors)).toContain(url.replace('/graphql', ''));
      } finally {
        await Promise.all([gateway.close(), router.close()]);
      }
    },
  );
});
