import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { isErrors, type RouterCore } from '../core.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';

export interface GraphQLWsTransportOptions {
  core: RouterCore;
  server: Server;
  /** @default "/graphql" */
  path?: string;
}

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
      onSubscribe: (_ctx, _id, payload) => {
        const prepared = core.prepare(payload);
        return isErrors(prepared) ? prepared : toExecutionArgs(core, prepared);
      },
      execute: (args) => core.execute(fromExecutionArgs(args)),
      subscribe: (args) => core.subscribe(fromExecutionArgs(args)),
    },
    wss,
  );
  return { close: async () => void (await disposable.dispose()) };
}
