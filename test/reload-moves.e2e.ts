import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, type RouterConfig } from '@edfs/router';
import { coreNats, startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { subscribe, wsClient } from './support/graphql.js';
import { waitFor } from './support/wait.js';

const ROOM = 'subscription { messageAdded(roomID: "moves") { id text } }';
const SUBJECT = 'room.moves.messages';

/** A proxy to `target` that counts requests and holds them while `held`. */
async function gatedProxy(target: string) {
  let held = false;
  let requests = 0;
  const waiting: (() => void)[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    requests++;
    const forward = () =>
      incoming.pipe(
        request(target, { method: incoming.method, headers: incoming.headers }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        }),
      );
    if (held) waiting.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    requests: () => requests,
    hold: () => void (held = true),
    release: () => {
      held = false;
      waiting.splice(0).forEach((forward) => forward());
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The stack's supergraph with the message subgraph at `messageUrl`; `variant` changes its text. */
function supergraph(config: RouterConfig, messageUrl: string, variant: string): string {
  const sources = [
    { name: config.events.name, schema: config.events.schema! },
    ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({
      name,
      ...subgraph,
      ...(name === 'message' ? { url: messageUrl } : {}),
    })),
  ];
  return `${composeSupergraph(sources)}\n# ${variant}\n`;
}

describe('a subscription across reloads that come while it cannot move yet', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startTestStack({ configure: coreNats });
    dir = mkdtempSync(join(tmpdir(), 'edfs-reload-moves-'));
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends up on the last supergraph, calling the subgraphs where it says they are', async () => {
    const messageUrl = stack.routerConfig.subgraphs['message']!.url;
    const before = await gatedProxy(messageUrl);
    const after = await gatedProxy(messageUrl);
    const file = join(dir, 'supergraph.graphql');
    const replace = (text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    replace(supergraph(stack.routerConfig, before.url, 'v1'));
    const router = await startRouterWith(stack, (config) => {
      config.supergraph = file;
      config.reload.watch = false;
    });
    const client = wsClient(router.url);
    try {
      const sub = subscribe<{ messageAdded: { id: string; text: string } }>(client, ROOM);
      await stack.subscribedOn(SUBJECT);
      // An event resolving (its fetch held) when the first reload comes: the subscription
      // moves once its old group has delivered it, and the second reload comes meanwhile.
      before.hold();
      stack.publish(SUBJECT, { __typename: 'Message', id: '1' });
      await waitFor('the held fetch', () => before.requests() === 1);
      replace(supergraph(stack.routerConfig, before.url, 'v2'));
      expect(await router.reload()).toMatchObject({ reloaded: true, version: 2 });
      replace(supergraph(stack.routerConfig, after.url, 'v3'));
      expect(await router.reload()).toMatchObject({ reloaded: true, version: 3 });
      before.release();
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });

      stack.publish(SUBJECT, { __typename: 'Message', id: '2' });
      expect(await sub.next()).toEqual({ data: { messageAdded: { id: '2', text: 'Hi Alice!' } } });
      // Resolved on the third supergraph: its message subgraph is the one behind `after`.
      expect(after.requests()).toBe(1);
      expect(before.requests()).toBe(1);
    } finally {
      await client.dispose();
      await router.close();
      await before.close();
      await after.close();
    }
  });
});
