import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { composeServices as composeWithHive } from '@theguild/federation-composition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { subscribe, wsClient } from './support/graphql.js';

const schemas = join(import.meta.dirname, '..', 'schemas');

// The events graph is one more subgraph to a team's own composer: rover and Apollo's
// GraphOS build use @apollo/composition, Hive (and its CLI) @theguild/federation-composition.
const composers = {
  '@apollo/composition (rover, GraphOS)': composeWithApollo,
  '@theguild/federation-composition (Hive)': composeWithHive,
};

describe('a supergraph from another composer, bindings inside', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'edfs-composers-'));
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.entries(composers))(
    'serves subscriptions from what %s composes, with no events.schema',
    async (composer, compose) => {
      const sdl = (name: string) => parse(readFileSync(join(schemas, `${name}.graphql`), 'utf8'));
      const { subgraphs } = stack.routerConfig;
      const result = compose([
        { name: 'events', url: '', typeDefs: sdl('events') },
        ...Object.entries(subgraphs).map(([name, { url }]) => ({
          name,
          url,
          typeDefs: sdl(name),
        })),
      ]);
      expect(result.errors ?? []).toEqual([]);
      const supergraph = join(dir, `${composer.replace(/\W+/g, '-')}.graphql`);
      writeFileSync(supergraph, result.supergraphSdl!);

      const router = await startRouterWith(stack, (config) => {
        config.supergraph = supergraph;
        config.subgraphs = {};
        delete config.events.schema;
      });
      const client = wsClient(router.url);
      try {
        const room = `composed-${Object.keys(composers).indexOf(composer)}`;
        const sub = subscribe(
          client,
          `subscription { messageAdded(roomID: "${room}") { text user { name } } }`,
        );
        await stack.subscribedOn(`room.${room}.messages`);
        stack.publish(`room.${room}.messages`, { __typename: 'Message', id: '1' });
        expect(await sub.next()).toEqual({
          data: { messageAdded: { text: 'Hello, Bob!', user: { name: 'Alice' } } },
        });
        expect(sub.cursor).toEqual(expect.any(String)); // `stream: "chat"` survived
        // An event without the key is refused: the keys came from the supergraph as well.
        stack.publish(`room.${room}.messages`, { __typename: 'Message' });
        expect(await sub.next()).toEqual({
          errors: [expect.objectContaining({ extensions: { code: 'INVALID_EVENT' } })],
        });
        expect(router.subjects).toBe(1);
        await sub.unsubscribe();
      } finally {
        await client.dispose();
        await router.close();
      }
    },
  );
});
