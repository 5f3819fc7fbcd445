import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { isErrors, type RouterCore } from '../core.js';
import { CloseCode } from './close-codes.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';

export interface GraphQLWsTransportOptions {
  core: RouterCore;
  server: Server;
  /** @default "/graphql" */
  path?: string;
}

/** How long clients get to complete the closing handshake when the router stops. */
const CLOSE_GRACE_MS = 1000;

export interface Transport {
  close(): Promise<void>;
}

/** The `graphql-transport-ws` protocol on the router's HTTP server, through graphql-ws. */
export function attachGraphQLWs({
  core,
  server,
  path = '/graphql',
}: GraphQLWsTransportOptions): Transport {
  const wss = new WebSocketServer({ server, path });
  const disposable = useServer(
    {
      schema: core.schema,
      onSubscribe: (ctx, _id, payload) => {
        const prepared = core.prepare(payload);
        if (isErrors(prepared)) return prepared;
        const { socket } = ctx.extra;
        return toExecutionArgs(core, prepared, {
          onTooSlow: () => socket.close(CloseCode.TryAgainLater, 'Subscriber too slow'),
        });
      },
      execute: (args) => core.execute(fromExecutionArgs(args).prepared),
      subscribe: (args) => {
        const { prepared, hooks } = fromExecutionArgs(args);
        return core.subscribe(prepared, hooks);
      },
    },
    wss,
  );
  return {
    async close() {
      // Clients get a 1001 close; one that does not finish the handshake (it stopped
      // reading) would hold the shutdown for ws's 30 s, so it is cut after a grace.
      const cut = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      await disposable.dispose();
      clearTimeout(cut);
    },
  };
}
