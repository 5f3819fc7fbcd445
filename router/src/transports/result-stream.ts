import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GraphQLRequest, PreparedRequest, RouterCore, SubscribeHooks } from '../core.js';
import type { Logger } from '../logger.js';

/** Answers one request to `/graphql` whose GraphQL request has been read already. */
export type StreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  request: GraphQLRequest,
) => Promise<void>;

/** How one streaming protocol puts results on the wire. */
export interface Framing {
  readonly headers: OutgoingHttpHeaders;
  /** Written with the headers, so the client sees the stream open before any event. */
  readonly open: string;
  readonly heartbeat: string;
  /** A result; the stream goes on. */
  result(result: ExecutionResult): string;
  /** Errors that end the stream (the broker ended the subscription, the router failed). */
  fatal(errors: readonly GraphQLError[]): string;
  /** Written last, when the stream completes. */
  readonly close: string;
}

export interface StreamOptions {
  core: RouterCore;
  prepared: PreparedRequest;
  framing: Framing;
  /** Interval of heartbeats while the stream is open. */
  heartbeatMs: number;
  logger: Logger;
}

/**
 * Streams a prepared operation's results (one for a query or mutation, many for a
 * subscription) with heartbeats, waiting for the socket to drain between results, until
 * the operation completes or the client goes away; either way the subscription is
 * released.
 */
export async function streamResults(
  req: IncomingMessage,
  res: ServerResponse,
  { core, prepared, framing, heartbeatMs, logger }: StreamOptions,
): Promise<void> {
  let gone = false;
  let failure: GraphQLError | undefined;
  const results = resultsOf(core, prepared, {
    onTooSlow: () => {
      // The client stopped reading: its queue is full and nothing more would reach it.
      gone = true;
      res.destroy();
    },
    onFailure: (error) => (failure = error),
    isBackedUp: () => res.writableLength > 0,
  });
  const leave = (): void => {
    gone = true;
    void results.return?.();
  };
  res.once('close', leave);
  req.socket.setNoDelay(true);
  res.writeHead(200, framing.headers);
  res.write(framing.open);
  const heartbeat = setInterval(() => {
    if (!gone) res.write(framing.heartbeat);
  }, heartbeatMs);
  try {
    for (;;) {
      const next = await results.next();
      if (next.done || gone) break;
      if (!res.write(framing.result(next.value))) await drained(res);
    }
    if (failure && !gone) res.write(framing.fatal([failure]));
  } catch (error) {
    logger.error({ err: error }, 'streaming an operation failed');
    if (!gone) res.write(framing.fatal([internalError()]));
  } finally {
    clearInterval(heartbeat);
    res.off('close', leave);
    if (!gone) res.end(framing.close);
    await results.return?.();
  }
}

function resultsOf(
  core: RouterCore,
  prepared: PreparedRequest,
  hooks: SubscribeHooks,
): AsyncIterator<ExecutionResult> {
  if (prepared.operation.kind === 'subscription') return core.subscribe(prepared, hooks);
  return (async function* () {
    yield await core.execute(prepared);
  })();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function internalError(): GraphQLError {
  return new GraphQLError('Unexpected error.', {
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
