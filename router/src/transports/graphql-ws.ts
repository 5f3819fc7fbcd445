import type { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { isErrors, type RouterCore } from '../core.js';
import { CloseCode } from './close-codes.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';

export interface GraphQLWsOptions {
  core: RouterCore;
  /** Receives the connections that offered `graphql-transport-ws`. */
  wss: WebSocketServer;
  /** How long a client has to send connection_init (then 4408). */
  connectionInitTimeoutMs: number;
}

/** The `graphql-transport-ws` protocol, through graphql-ws; returns its disposer. */
export function serveGraphQLWs({
  core,
  wss,
  connectionInitTimeoutMs,
}: GraphQLWsOptions): () => Promise<void> {
  const server = useServer(
    {
      schema: core.schema,
      connectionInitWaitTimeout: connectionInitTimeoutMs,
      onSubscribe: (ctx, id, payload) => {
        const prepared = core.prepare(payload);
        if (isErrors(prepared)) return prepared;
        const { socket } = ctx.extra;
        // Results go to the socket as they come, framed around their JSON; graphql-ws keeps
        // the protocol and the subscription's lifetime (its iterator only ends).
        const frameStart = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
        return toExecutionArgs(core, prepared, {
          write: (json, written) => socket.send(`${frameStart}${json}}`, () => written()),
          isBackedUp: () => socket.bufferedAmount > 0,
          tooSlow: () => socket.close(CloseCode.TryAgainLater, 'Subscriber too slow'),
        });
      },
      execute: (args) => core.execute(fromExecutionArgs(args).prepared),
      subscribe: (args) => {
        const { prepared, sink } = fromExecutionArgs(args);
        return core.subscribe(prepared, sink!);
      },
    },
    wss,
  );
  return async () => void (await server.dispose());
}
