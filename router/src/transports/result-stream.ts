import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Caller } from '../auth/caller.js';
import { isErrors, type GraphQLRequest, type PreparedRequest, type RouterCore } from '../core.js';
import type { TransportName } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { isRefusal, type Admission, type Release } from './admission.js';
import type { OpenStreams } from './open-streams.js';
import { mutationOverGet } from './request.js';

/** Answers one request to `/graphql` whose GraphQL request and caller are known already. */
export type StreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  request: GraphQLRequest,
  caller: Caller,
) => Promise<void>;

/** What a streaming transport (SSE, multipart) is made with. */
export interface StreamTransportOptions {
  core: RouterCore;
  logger: Logger;
  /** Interval of the heartbeats that keep an idle stream open, through proxies too. */
  heartbeatMs?: number | undefined;
  /** Where open subscriptions are registered, so that a stopping router can end them. */
  open?: OpenStreams | undefined;
  /** Where a subscription takes its place under `maxSubscriptions`. @default no cap */
  admission?: Pick<Admission, 'subscription'> | undefined;
}

/**
 * Where a streamed request stands once it has had its turn: prepared, with its place under
 * `maxSubscriptions` if it is a subscription; refused, with the errors that say why; or
 * `undefined` when the client went away while it waited (nothing was started).
 */
export type Admitted =
  | { readonly prepared: PreparedRequest; readonly release: Release | undefined }
  | { readonly errors: readonly GraphQLError[] }
  | undefined;

/** Waits for the request's turn (one of a crowd, RouterCore.turn), then prepares and admits it. */
export async function admitStream(
  { core, admission }: Pick<StreamTransportOptions, 'core' | 'admission'>,
  req: IncomingMessage,
  request: GraphQLRequest,
  caller: Caller,
): Promise<Admitted> {
  await core.turn();
  if (req.socket.destroyed) return undefined;
  const prepared = core.prepare(request, caller);
  if (isErrors(prepared)) return { errors: prepared };
  const release = prepared.subject ? admission?.subscription() : undefined;
  return isRefusal(release) ? { errors: [release] } : { prepared, release };
}

/** How one streaming protocol puts results on the wire. */
export interface Framing {
  readonly headers: OutgoingHttpHeaders;
  /** Written with the headers, so the client sees the stream open before any event. */
  readonly open: string;
  readonly heartbeat: string;
  /** A result, already serialized, with its stream cursor if it has one; the stream goes on. */
  result(json: string, cursor?: string): string;
  /** Errors that end the stream (the broker ended the subscription, the router failed). */
  fatal(errors: readonly GraphQLError[]): string;
  /** Written last, when the stream completes. */
  readonly close: string;
}

export interface StreamOptions {
  core: RouterCore;
  prepared: PreparedRequest;
  framing: Framing;
  /** Which protocol this is, for instrumentation. */
  transport: TransportName;
  /** Interval of heartbeats while the stream is open. */
  heartbeatMs: number;
  logger: Logger;
  /** Where an open subscription is registered, so that a stopping router can end it. */
  open?: OpenStreams | undefined;
  /** Gives back the subscription's place under `maxSubscriptions` once the stream ends. */
  release?: (() => void) | undefined;
}

/**
 * Streams a prepared operation's results (one for a query or mutation, each event's for a
 * subscription, written as they come) with heartbeats, until the operation completes or
 * the client goes away; either way the subscription is released.
 */
export async function streamResults(
  req: IncomingMessage,
  res: ServerResponse,
  { core, prepared, framing, transport, heartbeatMs, logger, open, release }: StreamOptions,
): Promise<void> {
  if (prepared.operation.kind === 'mutation' && req.method === 'GET') {
    throw mutationOverGet();
  }
  let gone = false;
  let failure: GraphQLError | undefined;
  let lifetime: AsyncIterator<ExecutionResult> | undefined;
  let unregister: (() => void) | undefined;
  const leave = (): void => {
    gone = true;
    void lifetime?.return?.();
  };
  res.once('close', leave);
  // A client that goes away mid-write fails the response; `close` follows and cleans up.
  res.on('error', (error) => logger.debug({ err: error }, 'streaming response failed'));
  req.socket.setNoDelay(true);
  res.writeHead(200, framing.headers);
  res.write(framing.open);
  const heartbeat = setInterval(() => {
    if (!gone) res.write(framing.heartbeat);
  }, heartbeatMs);
  try {
    if (prepared.operation.kind !== 'subscription') {
      const result = await core.execute(prepared);
      if (!gone) res.write(framing.result(JSON.stringify(result)));
    } else {
      // A stopping router ends the response without its closing part: the client sees an
      // interrupted stream and reconnects, to another router. If it began to stop while
      // this request waited for its turn, that is at once, and nothing is subscribed.
      unregister = open?.add(() => {
        gone = true;
        void lifetime?.return?.();
        res.end();
      });
      if (!gone) {
        lifetime = core.subscribe(prepared, {
          transport,
          write: (json, written, cursor) => {
            if (gone) written();
            else res.write(framing.result(json, cursor), () => written());
          },
          isBackedUp: () => res.writableLength > 0,
          tooSlow: () => {
            // The client stopped reading: nothing more would reach it.
            gone = true;
            res.destroy();
          },
          failed: (error) => (failure = error),
        });
        await lifetime.next(); // finishes when the subscription ends
        if (failure && !gone) res.write(framing.fatal([failure]));
      }
    }
  } catch (error) {
    logger.error({ err: error }, 'streaming an operation failed');
    if (!gone) res.write(framing.fatal([internalError()]));
  } finally {
    clearInterval(heartbeat);
    unregister?.();
    res.off('close', leave);
    if (!gone) res.end(framing.close);
    gone = true; // nothing may be written after the end
    await lifetime?.return?.();
    release?.();
  }
}

function internalError(): GraphQLError {
  return new GraphQLError('Unexpected error.', {
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
