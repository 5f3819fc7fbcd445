import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { composeSupergraph } from '@edfs/router';
import {
  startFederationSubgraphs,
  type FederationSubgraphs,
} from './support/federation/subgraphs.js';
import { startApolloGateway, startRouterOn, type Endpoint } from './support/federation/gateways.js';
import { besideApollo, readable, send, type Case } from './support/federation/parity.js';
import { closedPort } from './support/routers.js';

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
  const endpoints = besideApollo();

  it.each(refused)('$name', async ({ query, variables, operationName, spec }) => {
    for (const accept of ['application/json', 'application/graphql-response+json'] as const) {
      const theirs = await send(endpoints.gateway.url, query, variables, operationName, accept);
      const ours = await send(endpoints.router.url, query, variables, operationName, accept);
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
    const theirs = await send(endpoints.gateway.url, undefined);
    const ours = await send(endpoints.router.url, undefined);
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
