import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createHandler, parseRequestParams, type Response } from 'graphql-http';
import type { Caller } from '../auth/caller.js';
import { isKeysUnavailable } from '../auth/jwt.js';
import { isErrors, type RouterCore } from '../core.js';
import {
  noopInstrumentation,
  secondsSince,
  type HttpOutcome,
  type Instrumentation,
  type OperationType,
  type Trace,
} from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { httpMediaType, negotiate } from './accept.js';
import { isRefusal, type Admission } from './admission.js';
import { createCors, type Cors } from './cors.js';
import { createGraphiQL, GRAPHIQL_ASSETS_PATH } from './graphiql.js';
import { createMultipartHandler } from './multipart.js';
import type { OpenStreams } from './open-streams.js';
import { fromExecutionArgs, toExecutionArgs, type PreparedContext } from './operation-args.js';
import {
  HttpError,
  mutationOverGet,
  readBody,
  readGraphQLRequest,
  sendHttpError,
  unreadable,
} from './request.js';
import { createSseHandler } from './sse.js';

export interface HttpTransportOptions {
  core: RouterCore;
  logger: Logger;
  /** What `GET /health` reports; unhealthy answers 503. */
  health(): { healthy: boolean; [detail: string]: unknown };
  /** The largest request body accepted; a larger one is refused with 413. @default 1048576 */
  maxPayloadBytes?: number;
  /** Interval of SSE comment heartbeats. @default 12000 */
  sseHeartbeatMs?: number;
  /** Interval of multipart `{}` heartbeat parts. @default 5000 */
  multipartHeartbeatMs?: number;
  /** Serve GraphiQL to browsers at `GET /graphql`. @default true */
  graphiql?: boolean;
  /** The operation GraphiQL opens with. @default GraphiQL's welcome text */
  graphiqlDefaultQuery?: string | undefined;
  /** Where GraphQL-over-HTTP requests are reported. @default nothing is reported */
  instrumentation?: Instrumentation;
  /** Metrics to serve at `GET path`. @default none: the path is not served */
  metrics?: MetricsEndpoint | undefined;
  /** Where SSE and multipart subscriptions are registered, so a stopping router ends them. */
  open?: OpenStreams | undefined;
  /**
   * What `GET /ready` reports, for load balancers: not ready answers 503 (while the broker
   * is disconnected, or the router is stopping). Absent: no `/ready`.
   */
  ready?: (() => { ready: boolean; [detail: string]: unknown }) | undefined;
  /**
   * The caps on open streams and subscriptions: an SSE or multipart request over
   * `maxConnections` gets 503. @default no cap
   */
  admission?: Admission | undefined;
  /** Which other origins' pages may call `/graphql`. @default none */
  cors?: Cors | undefined;
}

/** What serves `GET /metrics`; the transport knows nothing of the format. */
export interface MetricsEndpoint {
  readonly path: string;
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** What one GraphQL-over-HTTP request came to, filled in by graphql-http's hooks. */
interface RequestReport {
  operation: OperationType;
  outcome: HttpOutcome;
  /** The router failed preparing it (e.g. the query planner threw): a 5xx, not the client's fault. */
  internal?: boolean;
  readonly trace: Trace;
}

/**
 * Everything on the router's HTTP port but WebSockets. On `/graphql` the `Accept` header
 * picks the protocol: GraphQL over HTTP (graphql-http), GraphQL over SSE, multipart
 * subscriptions, or the GraphiQL page; `/graphiql/…` serves the page's assets, and
 * `GET /health` is for load balancers.
 */
export function createHttpListener({
  core,
  logger,
  health,
  maxPayloadBytes = 1024 * 1024,
  sseHeartbeatMs,
  multipartHeartbeatMs,
  graphiql = true,
  graphiqlDefaultQuery,
  instrumentation = noopInstrumentation,
  metrics,
  open,
  ready,
  admission,
  cors = createCors(),
}: HttpTransportOptions): RequestListener {
  const reports = new WeakMap<IncomingMessage, RequestReport>();
  const graphqlHttp = createHandler<IncomingMessage, Caller, PreparedContext>({
    schema: () => core.schema, // the supergraph served now, reloads included
    parseRequestParams: async (req) => {
      try {
        return await parseRequestParams(req);
      } catch (error) {
        return badRequest(unreadable(req, error));
      }
    },
    onSubscribe: (req, params) => {
      const report = req.raw && reports.get(req.raw);
      const prepared = core.prepare(params, req.context, report?.trace);
      if (isErrors(prepared)) {
        if (report && prepared.some(isInternal)) {
          report.internal = true;
          report.outcome = 'failed';
        }
        return prepared;
      }
      if (report) report.operation = prepared.operation.kind;
      // graphql-http would refuse it too, but without saying what the client can do instead.
      if (prepared.operation.kind === 'subscription') return [needsStreamingProtocol()];
      return toExecutionArgs(prepared);
    },
    execute: (args) => core.execute(fromExecutionArgs(args).prepared),
    onOperation: (req, _args, result) => {
      const report = req.raw && reports.get(req.raw);
      if (report) report.outcome = result.errors?.length ? 'errors' : 'ok';
    },
  });
  const streams = {
    sse: createSseHandler({ core, logger, heartbeatMs: sseHeartbeatMs, open, admission }),
    multipart: createMultipartHandler({
      core,
      logger,
      heartbeatMs: multipartHeartbeatMs,
      open,
      admission,
    }),
  };
  const page = graphiql ? createGraphiQL({ defaultQuery: graphiqlDefaultQuery }) : undefined;

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const protocol = negotiate(req.headers.accept, {
      graphiql: !!page && (req.method === 'GET' || req.method === 'HEAD'),
    });
    if (protocol === 'graphiql') return page!.page(req, res);
    if (protocol === 'sse' || protocol === 'multipart') {
      const caller = await core.identify({ headers: req.headers });
      if (caller instanceof GraphQLError) throw refused(caller);
      // Gone while its token was checked (JWT keys being fetched): its `close` has come and
      // gone, so a place taken now would never be given back.
      if (req.socket.destroyed) return;
      // Before the body is read: an open stream is what the cap bounds.
      const release = admission?.connection();
      if (isRefusal(release)) return sendErrors(res, 503, [release], { 'retry-after': '5' });
      res.once('close', () => release?.());
      return streams[protocol](req, res, await readGraphQLRequest(req, maxPayloadBytes), caller);
    }
    const start = performance.now();
    // Refused unless graphql-http gets as far as executing it.
    const trace = instrumentation.requestStarted({
      method: req.method ?? 'GET',
      traceparent: header(req, 'traceparent'),
      tracestate: header(req, 'tracestate'),
    });
    const report: RequestReport = { operation: 'unknown', outcome: 'refused', trace };
    reports.set(req, report);
    try {
      // Timed and traced: a token refused (401) or that cannot be checked (503) is a request.
      const caller = await core.identify({ headers: req.headers });
      if (caller instanceof GraphQLError) throw refused(caller);
      await answerGraphQL(req, res, caller);
    } catch (error) {
      if (!(error instanceof HttpError)) report.outcome = 'failed';
      throw error;
    } finally {
      instrumentation.httpRequestFinished(report.operation, report.outcome, secondsSince(start));
      trace.annotate({
        'graphql.operation.type': report.operation,
        'edfs.outcome': report.outcome,
      });
      trace.end(report.outcome === 'failed');
    }
  }

  /** GraphQL over HTTP: one result, for a query or a mutation. */
  async function answerGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller,
  ): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req, maxPayloadBytes) : null;
    const [text, response] = await graphqlHttp({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      // The type the client prefers, alone: graphql-http reads neither quality nor q=0.
      headers: { ...req.headers, accept: httpMediaType(req.headers.accept) ?? UNSERVED_TYPE },
      body,
      raw: req,
      context: caller,
    });
    // graphql-http answers every error before execution as the client's (200 or 400).
    const init = reports.get(req)?.internal
      ? { ...response, status: 500, statusText: 'Internal Server Error' }
      : response;
    // Its one 405 with a body is a mutation sent with GET: answered as the streams answer it.
    if (init.status === 405 && text !== null) return sendHttpError(res, mutationOverGet());
    if (text === null && init.status >= 400) {
      // graphql-http leaves these bodies empty; say what went wrong.
      const message = init.status === 406 ? NOT_ACCEPTABLE : `${init.statusText}.`;
      return sendHttpError(res, new HttpError(init.status, message, init.headers));
    }
    res.writeHead(init.status, init.statusText, init.headers).end(text);
  }

  function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
    const answer = cors.preflight(req.headers);
    if (answer.allowed) return void res.writeHead(204, answer.headers).end();
    instrumentation.connectionRefused('origin');
    logger.info({ origin: req.headers.origin, reason: answer.reason }, 'refused a CORS preflight');
    const error = new GraphQLError(answer.reason, { extensions: { code: 'CORS_REFUSED' } });
    sendErrors(res, 403, [error], { vary: 'Origin' });
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === '/graphql') {
      if (cors.isPreflight(req.method, req.headers)) return answerPreflight(req, res);
      for (const [name, value] of Object.entries(cors.responseHeaders(req.headers))) {
        res.setHeader(name, value!);
      }
      handleGraphQL(req, res).catch((error: unknown) => fail(res, error, logger));
    } else if (page && path.startsWith(GRAPHIQL_ASSETS_PATH)) {
      page
        .asset(req, res, path)
        .then((served) => served || notFound(res))
        .catch((error: unknown) => fail(res, error, logger));
    } else if (
      metrics &&
      path === metrics.path &&
      (req.method === 'GET' || req.method === 'HEAD')
    ) {
      metrics
        .scrape()
        .then(({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        })
        .catch((error: unknown) => fail(res, error, logger));
    } else if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const { healthy, ...details } = health();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable', ...details }));
    } else if (ready && path === '/ready' && (req.method === 'GET' || req.method === 'HEAD')) {
      const { ready: isReady, ...details } = ready();
      res.writeHead(isReady ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: isReady ? 'ready' : 'not ready', ...details }));
    } else {
      notFound(res);
    }
  };
}

/** An `Accept` that no GraphQL-over-HTTP answer meets: graphql-http answers it with 406. */
const UNSERVED_TYPE = 'application/x-unserved';

const NOT_ACCEPTABLE =
  'None of the accepted media types can be served: accept application/graphql-response+json, ' +
  'application/json, text/event-stream or multipart/mixed;subscriptionSpec=1.0.';

/**
 * A subscription sent as plain GraphQL over HTTP. graphql-http picks the status as the
 * GraphQL over HTTP spec asks for a request error: 200 for `application/json`, 400 for
 * `application/graphql-response+json`.
 */
function needsStreamingProtocol(): GraphQLError {
  return new GraphQLError(
    'Subscriptions need a streaming protocol: use a WebSocket (graphql-transport-ws), ' +
      'Accept: text/event-stream (SSE) or Accept: multipart/mixed;subscriptionSpec=1.0 ' +
      '(see "Protocols" in the README).',
    { extensions: { code: 'BAD_REQUEST' } },
  );
}

/**
 * Credentials refused, on every HTTP protocol alike: 401 with the error when they do not
 * authenticate, 503 when the router could not fetch the keys to check them, 400 when they
 * cannot be used at all (e.g. a header that cannot be forwarded).
 */
function refused(error: GraphQLError): HttpError {
  if (isKeysUnavailable(error)) return new HttpError(503, error.message, {}, error.extensions);
  return error.extensions['code'] === 'UNAUTHENTICATED'
    ? new HttpError(401, error.message, { 'www-authenticate': 'Bearer' }, error.extensions)
    : new HttpError(400, error.message, {}, error.extensions);
}

/** Answers with GraphQL errors as JSON, codes included, before any GraphQL ran. */
function sendErrors(
  res: ServerResponse,
  status: number,
  errors: readonly GraphQLError[],
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ errors }));
}

/**
 * A request graphql-http cannot read ("Missing query", "Invalid variables"): its message,
 * with the code Apollo Server gives it too; graphql-http's own answer has none.
 */
function badRequest({ message }: Error): Response {
  return [
    JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }),
    {
      status: 400,
      statusText: 'Bad Request',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    },
  ];
}

function isInternal(error: GraphQLError): boolean {
  return error.extensions['code'] === 'INTERNAL_SERVER_ERROR';
}

/** A request header sent once; a repeated one (an array) counts as absent. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ message: 'Not found: use /graphql or /health.' }] }));
}

function fail(res: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof HttpError && !res.headersSent) return sendHttpError(res, error);
  logger.error({ err: error }, 'HTTP request failed');
  if (res.headersSent) return void res.destroy();
  // Never an empty body: a client reads the same error shape as any other.
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
  res.end(
    JSON.stringify({
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    }),
  );
}
