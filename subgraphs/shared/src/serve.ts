import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { SubgraphListenError } from './errors.js';
import { createSubgraphLogger, type Logger } from './logger.js';

export interface ServeSubgraphOptions {
  /** The subgraph's name, used in logs and errors. */
  name: string;
  /** The executable subgraph schema, e.g. from `buildSubgraphSchema`. */
  schema: GraphQLSchema;
  /**
   * The TCP port; 0 picks a free one (read it back from `RunningSubgraph.port`).
   * @default 0
   */
  port?: number | undefined;
  /**
   * The interface to listen on. Use `0.0.0.0` only to be reachable from other machines.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * Where request failures are reported.
   * @default createSubgraphLogger(name)
   */
  logger?: Logger | undefined;
  /**
   * More paths to serve beside `/graphql` and `/health`, each by its own listener, which
   * checks the method and handles its own response's errors.
   * @default {}
   */
  routes?: Readonly<Record<string, RequestListener>> | undefined;
}

/** A subgraph listening for GraphQL over HTTP. */
export interface RunningSubgraph {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`. */
  readonly url: string;
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Serves `schema` with graphql-http on `/graphql` (GET and POST), answers `GET /health`
 * with `{"status":"ok"}`, hands the paths in `routes` to their listeners, and answers 404
 * to anything else.
 *
 * @throws SubgraphListenError when the port is taken or the host is not one of this machine's.
 */
export async function serveSubgraph(options: ServeSubgraphOptions): Promise<RunningSubgraph> {
  const { name, schema, port = 0, host = '127.0.0.1', routes = {} } = options;
  const logger = options.logger ?? createSubgraphLogger(name);
  const graphql = createHandler({ schema });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://subgraph').pathname;
    if (path === '/graphql') {
      graphql(req, res).catch((error: unknown) => {
        logger.error({ err: error, method: req.method, path }, 'GraphQL request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    } else if (path === '/health' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (Object.hasOwn(routes, path)) {
      try {
        routes[path]!(req, res);
      } catch (error) {
        // A throw here would otherwise end the process, and every other request with it.
        logger.error({ err: error, method: req.method, path }, 'request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    } else {
      res.writeHead(404).end();
    }
  });

  const urlHost = host.includes(':') ? `[${host}]` : host;
  await new Promise<void>((resolve, reject) => {
    const refuse = (cause: Error) =>
      reject(new SubgraphListenError(name, `${urlHost}:${port}`, { cause }));
    server.once('error', refuse);
    server.listen(port, host, () => {
      server.off('error', refuse);
      server.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}/graphql`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
