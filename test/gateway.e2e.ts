import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { post, subscribe, wsClient } from './support/graphql.js';

describe('a supergraph without an events graph, as any composer builds it', () => {
  let stack: TestStack;
  let dir: string;
  let supergraph: string;
  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'edfs-gateway-'));
    supergraph = join(dir, 'supergraph.graphql');
    const { subgraphs } = stack.routerConfig;
    writeFileSync(
      supergraph,
      composeSupergraph(
        Object.entries(subgraphs).map(([name, subgraph]) => ({ name, ...subgraph })),
      ),
    );
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['without events.schema', false],
    ['with events.schema still in the config', true],
  ])('serves queries and mutations %s', async (_, keepEvents) => {
    const router = await startRouterWith(stack, (config) => {
      config.supergraph = supergraph;
      if (!keepEvents) delete config.events.schema;
    });
    try {
      const query = await post(router.url, '{ message(id: "1") { text user { name } } }');
      expect(query.body).toEqual({
        data: { message: { text: 'Hello, Bob!', user: { name: 'Alice' } } },
      });
      const added = await post<{ addMessage: { text: string } }>(
        router.url,
        'mutation { addMessage(roomID: "gw", text: "hi", userID: "2") { text } }',
      );
      expect(added.body).toEqual({ data: { addMessage: { text: 'hi' } } });
      // There is no Subscription type to subscribe to: a validation error, nothing else.
      const client = wsClient(router.url);
      await expect(
        subscribe(client, 'subscription { messageAdded(roomID: "1") { id } }').next(),
      ).rejects.toEqual([
        expect.objectContaining({
          message: 'The schema has no "subscription" root type defined',
          extensions: { code: 'INVALID_GRAPHQL' },
        }),
      ]);
      await client.dispose();
      expect(router.subjects).toBe(0);
    } finally {
      await router.close();
    }
  });
});
