import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createHandler } from 'graphql-http/lib/use/http';
import { isErrors, type RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { fromExecutionArgs, toExecutionArgs, type PreparedContext } from './operation-args.js';

export interface HttpTransportOptions {
  core: RouterCore;
  logger: Logger;
  /** What `GET /health` reports; unhealthy answers 503. */
  health(): { healthy: boolean; [detail: string]: unknown };
}

/**
 * GraphQL over HTTP (`POST` and `GET /graphql`, `application/graphql-response+json` and
 * `application/json`) through graphql-http, and `GET /health` for load balancers.
 */
export function createHttpListener({
  core,
  logger,
  health,
}: HttpTransportOptions): RequestListener {
  const graphql = createHandler<PreparedContext>({
    schema: core.schema,
    onSubscribe: (_req, params) => {
      const prepared = core.prepare(params);
      return isErrors(prepared) ? prepared : toExecutionArgs(core, prepared);
    },
    execute: (args) => core.execute(fromExecutionArgs(args).prepared),
  });
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/graphql') {
      graphql(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    } else if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const { healthy, ...details } = health();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable', ...details }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'Not found: use /graphql or /health.' }] }));
    }
  };
}
