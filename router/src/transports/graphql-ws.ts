import { makeServer } from 'graphql-ws';
import { isErrors, type RouterCore } from '../core.js';
import { fromExecutionArgs, toExecutionArgs } from './operation-args.js';
import {
  connectionSink,
  type Connection,
  type OperationLimit,
  type WebSocketProtocol,
} from './websocket-protocol.js';

export interface GraphQLWsOptions {
  core: RouterCore;
  /** How long a client has to send connection_init (then 4408). */
  connectionInitTimeoutMs: number;
  /** Operations one connection may run at once. */
  operations: OperationLimit;
}

/**
 * The `graphql-transport-ws` protocol, through graphql-ws's own state machine (`makeServer`);
 * subscription results bypass it and go straight to the connection, framed around their JSON.
 */
export function graphqlWsProtocol({
  core,
  connectionInitTimeoutMs,
  operations,
}: GraphQLWsOptions): WebSocketProtocol {
  const server = makeServer<Record<string, unknown>, { connection: Connection }>({
    schema: core.schema,
    connectionInitWaitTimeout: connectionInitTimeoutMs,
    onSubscribe: (ctx, id, payload) => {
      // graphql-ws has registered this id already, so it counts itself.
      if (Object.keys(ctx.subscriptions).length > operations.max) return [operations.refuse()];
      const prepared = core.prepare(payload);
      if (isErrors(prepared)) return prepared;
      const frameStart = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      return toExecutionArgs(core, prepared, connectionSink(ctx.extra.connection, frameStart));
    },
    execute: (args) => core.execute(fromExecutionArgs(args).prepared),
    subscribe: (args) => {
      const { prepared, sink } = fromExecutionArgs(args);
      return core.subscribe(prepared, sink!);
    },
  });
  return { opened: (socket, connection) => server.opened(socket, { connection }) };
}
