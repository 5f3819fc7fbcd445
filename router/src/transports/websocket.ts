import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL as MODERN_PROTOCOL } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RouterCore } from '../core.js';
import type { Instrumentation } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { CloseCode } from './close-codes.js';
import { graphqlWsProtocol } from './graphql-ws.js';
import { LEGACY_PROTOCOL, legacyWsProtocol } from './legacy-ws.js';
import { isRefusal, type Admission } from './admission.js';
import type { ProtocolSession, ProtocolSocket, WebSocketProtocol } from './websocket-protocol.js';
import { SharedFrames } from './shared-frames.js';
import { closeOpen, EndOfTick, wsConnection } from './ws-connection.js';

export interface WebSocketOptions {
  core: RouterCore;
  server: Server;
  logger: Logger;
  /** Where refused upgrades are reported. */
  instrumentation: Instrumentation;
  /** @default "/graphql" */
  path?: string;
  /** Largest message a client may send; larger closes the connection with 1009. */
  maxPayloadBytes: number;
  /** How long a client has to send connection_init (both protocols). */
  connectionInitTimeoutMs: number;
  /**
   * The caps on connections, subscriptions and operations per connection. A connection
   * over `maxConnections` is accepted and closed at once with 1013 (try again later).
   */
  admission: Admission;
  /**
   * Whether a browser on `origin` may open a WebSocket here (cross-site WebSocket
   * hijacking); an upgrade with an `Origin` that is neither the router's own (the `Host`
   * header) nor allowed is refused with 403. Clients that send no `Origin` pass.
   * @default only the router's own origin
   */
  allowOrigin?: (origin: string) => boolean;
  /**
   * Interval of WebSocket pings; a client that has not answered the previous one by the
   * next is cut, so dead connections do not hold subscriptions. @default 12000
   */
  keepAliveMs?: number;
}

export interface Transport {
  /**
   * Closes every connection with 1001: at once if it has no query or mutation running,
   * else once those have answered, or `graceMs` has passed. @default graceMs 0
   */
  close(graceMs?: number): Promise<void>;
}

/** How long clients get to complete the closing handshake when the router stops. */
const CLOSE_GRACE_MS = 1000;

/**
 * The one adapter between `ws` and the WebSocket protocols: it routes each upgrade to the
 * protocol the client offers — `graphql-transport-ws` (graphql-ws), or `graphql-ws` (the
 * legacy subscriptions-transport-ws); a client that offers none goes to graphql-ws, which
 * closes it with 4406, and other offers are refused with 400 — and it owns, for both,
 * socket errors, ping/pong, the size limit and the close at shutdown.
 */
export function attachWebSockets({
  core,
  server,
  logger,
  instrumentation,
  path = '/graphql',
  maxPayloadBytes,
  connectionInitTimeoutMs,
  admission,
  allowOrigin = () => false,
  keepAliveMs = 12_000,
}: WebSocketOptions): Transport {
  const operations = admission.perConnection;
  const protocols = new Map<string, WebSocketProtocol>([
    [
      MODERN_PROTOCOL,
      graphqlWsProtocol({ core, logger, connectionInitTimeoutMs, operations, admission }),
    ],
    [
      LEGACY_PROTOCOL,
      legacyWsProtocol({ core, logger, connectionInitTimeoutMs, operations, admission }),
    ],
  ]);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    handleProtocols: (offered) =>
      offered.has(MODERN_PROTOCOL)
        ? MODERN_PROTOCOL
        : offered.has(LEGACY_PROTOCOL) && LEGACY_PROTOCOL,
  });
  // Every connection's results are framed through one cache (a group's members come in a
  // row) and flushed at the end of the tick together.
  const shared = { frames: new SharedFrames(), endOfTick: new EndOfTick() };
  /** Each open connection's protocol session. */
  const sessions = new Map<WebSocket, ProtocolSession>();
  // One listener for every socket: a closure made per upgrade would hold its request (and
  // its headers) for as long as the connection lives.
  const clientError = (error: Error): void =>
    logger.debug({ err: error }, 'WebSocket client error');
  const upgradeError = (error: Error): void =>
    logger.debug({ err: error }, 'WebSocket upgrade failed');

  /** Takes the connection's place under `maxConnections`, or closes it with 1013. */
  function admit(socket: WebSocket, req: IncomingMessage, raw: Duplex): void {
    // ws reports bad frames (too big, not UTF-8, bad opcodes) here and closes the socket
    // itself with the matching code; without a listener the error would end the process.
    socket.on('error', clientError);
    const release = admission.connection();
    if (isRefusal(release)) return socket.close(CloseCode.TryAgainLater, 'Too many connections');
    // ws emits 'close' once; `on` spares the wrapper `once` makes per connection.
    socket.on('close', release);
    serve(socket, req, raw);
  }

  function serve(socket: WebSocket, req: IncomingMessage, raw: Duplex): void {
    const protocol = protocols.get(socket.protocol) ?? protocols.get(MODERN_PROTOCOL)!;
    const client = new ProtocolClient(socket);
    const session = protocol.opened(client, wsConnection(socket, raw, shared, 'shared'), {
      headers: req.headers,
    });
    sessions.set(socket, session);
    socket.on('message', (data, isBinary) => {
      // Both protocols are text only; a binary frame is as malformed as bad JSON.
      const text = isBinary ? '' : data.toString();
      client.handler?.(text).catch((error: unknown) => {
        logger.error({ err: error }, 'WebSocket message handling failed');
        client.close(CloseCode.InternalError, 'Internal error');
      });
    });

    let alive = true;
    socket.on('pong', () => void (alive = true));
    const keepAlive = setInterval(() => {
      if (!alive) return void socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
    socket.on('close', (code, reason) => {
      clearInterval(keepAlive);
      sessions.delete(socket);
      Promise.resolve(session.closed(code, reason.toString())).catch((error: unknown) =>
        logger.error({ err: error }, 'WebSocket cleanup failed'),
      );
    });
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node drops its own error listener from an upgraded socket: a client that resets it
    // while we refuse the upgrade would otherwise end the process.
    socket.on('error', upgradeError);
    if ((req.url ?? '/').split('?', 1)[0] !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, req.headers.host) && !allowOrigin(origin)) {
      instrumentation.connectionRefused('origin');
      logger.warn({ origin }, 'refused a WebSocket upgrade from another origin');
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n' +
          'WebSocket connections from this origin are not allowed (cors.origins).\n',
      );
      return;
    }
    const header = req.headers['sec-websocket-protocol'];
    const offered = header ? header.split(',').map((p) => p.trim()) : [];
    if (offered.length > 0 && !offered.some((p) => protocols.has(p))) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n' +
          `Unsupported WebSocket sub-protocol "${header}": use ${MODERN_PROTOCOL} or ${LEGACY_PROTOCOL}.\n`,
      );
      return;
    }
    // The TCP socket goes with it: shared frames are written straight to it.
    wss.handleUpgrade(req, socket, head, (ws) => admit(ws, req, socket));
  };
  server.on('upgrade', onUpgrade);

  return {
    async close(graceMs = 0) {
      server.off('upgrade', onUpgrade);
      const goAway = (client: WebSocket): void => client.close(CloseCode.GoingAway, 'Going away');
      // A query or a mutation in flight answers first: a mutation cut off leaves its client
      // not knowing whether it was done. Subscriptions go with the socket.
      const answered = Promise.all(
        [...wss.clients].map((client) =>
          // Whatever a session's answers do, its socket is told to go.
          (sessions.get(client)?.settled() ?? Promise.resolve())
            .catch(() => undefined)
            .then(() => goAway(client)),
        ),
      );
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        answered,
        new Promise((resolve) => (grace = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(grace);
      for (const client of wss.clients) goAway(client);
      // One that does not finish the closing handshake (it stopped reading) would hold the
      // shutdown for ws's 30 s, so it is cut after a grace of its own.
      const cut = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      await new Promise((resolve) => wss.close(resolve));
      clearTimeout(cut);
    },
  };
}

/**
 * A ws socket as the protocols see it, one per connection: methods on the prototype rather
 * than closures per connection, which cost memory for each (tsx's keepNames gives a named
 * one a property table of its own).
 */
class ProtocolClient implements ProtocolSocket {
  /** What the protocol does with each text message. */
  handler: ((text: string) => Promise<void>) | undefined;

  constructor(private readonly socket: WebSocket) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, () => resolve());
    });
  }

  close(code: number, reason: string): void {
    closeOpen(this.socket, code, reason);
  }

  onMessage(handler: (text: string) => Promise<void>): void {
    this.handler = handler;
  }
}

/** Whether a browser's `Origin` is the router's own: the host it asked for is `Host`. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed pages, file:) and garbage are nobody's own
  }
}
