import { Agent, request } from 'node:http';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubgraphListenError } from './errors.js';
import { createSubgraphLogger } from './logger.js';
import { serveSubgraph, type RunningSubgraph } from './serve.js';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
  }),
});
const logger = createSubgraphLogger('serve-test', 'silent');
let subgraph: RunningSubgraph;

beforeAll(async () => {
  subgraph = await serveSubgraph({ name: 'test', schema, logger });
});

afterAll(async () => {
  await subgraph.close();
});

describe('serveSubgraph', () => {
  it('listens on a free port of 127.0.0.1 by default', () => {
    expect(subgraph.port).toBeGreaterThan(0);
    expect(subgraph.url).toBe(`http://127.0.0.1:${subgraph.port}/graphql`);
  });

  it('answers GraphQL over POST and GET', async () => {
    const post = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(await post.json()).toEqual({ data: { hello: 'world' } });
    const get = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ hello }')}`);
    expect(await get.json()).toEqual({ data: { hello: 'world' } });
  });

  it('reports health and refuses other paths', async () => {
    const health = await fetch(subgraph.url.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(subgraph.url.replace('/graphql', '/other'))).status).toBe(404);
  });

  it('hands extra routes to their listeners, and answers 500 when one throws', async () => {
    const withRoutes = await serveSubgraph({
      name: 'routes',
      schema,
      logger,
      routes: {
        '/page': (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('hi'),
        '/broken': () => {
          throw new Error('broken route');
        },
      },
    });
    try {
      const base = withRoutes.url.replace('/graphql', '');
      const page = await fetch(`${base}/page?x=1`);
      expect([page.status, await page.text()]).toEqual([200, 'hi']);
      expect((await fetch(`${base}/broken`)).status).toBe(500);
      expect((await fetch(`${base}/toString`)).status).toBe(404);
      const health = await fetch(`${base}/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      await withRoutes.close();
    }
  });

  it('closes while a keep-alive connection sits idle', async () => {
    const other = await serveSubgraph({ name: 'idle', schema, logger });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request(other.url.replace('/graphql', '/health'), { agent }, (res) => {
        res.resume().on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await other.close();
    await other.close(); // a second close is harmless
    agent.destroy();
  });

  it('fails with SubgraphListenError when the port is taken', async () => {
    await expect(
      serveSubgraph({ name: 'clash', schema, logger, port: subgraph.port }),
    ).rejects.toThrow(SubgraphListenError);
  });
});
