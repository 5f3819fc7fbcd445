import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RouterCore } from '../core.js';
import type { Logger } from '../logger.js';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL as MODERN_PROTOCOL } from 'graphql-ws';
import { serveGraphQLWs } from './graphql-ws.js';
import { LEGACY_PROTOCOL, serveLegacyWs } from './legacy-ws.js';

export interface WebSocketOptions {
  core: RouterCore;
  server: Server;
  logger: Logger;
  /** @default "/graphql" */
  path?: string;
  /** Largest message a client may send; larger closes the connection with 1009. */
  maxPayloadBytes: number;
  /** How long a client has to send connection_init. */
  connectionInitTimeoutMs: number;
}

export interface Transport {
  close(): Promise<void>;
}

/** How long clients get to complete the closing handshake when the router stops. */
const CLOSE_GRACE_MS = 1000;

/**
 * WebSockets on the router's HTTP server. Each upgrade goes to the protocol the client
 * offers: `graphql-transport-ws` (graphql-ws), or `graphql-ws` (the legacy
 * subscriptions-transport-ws). Other protocols are refused with 400; a client that offers
 * none goes to graphql-ws, which closes it with 4406.
 */
export function attachWebSockets({
  core,
  server,
  logger,
  path = '/graphql',
  maxPayloadBytes,
  connectionInitTimeoutMs,
}: WebSocketOptions): Transport {
  const modern = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes });
  const legacy = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    handleProtocols: () => LEGACY_PROTOCOL,
  });
  const disposeModern = serveGraphQLWs({ core, wss: modern, connectionInitTimeoutMs });
  serveLegacyWs({
    core,
    wss: legacy,
    logger,
    connectionInitWaitTimeoutMs: connectionInitTimeoutMs,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if ((req.url ?? '/').split('?', 1)[0] !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const header = req.headers['sec-websocket-protocol'];
    const offered = header ? header.split(',').map((p) => p.trim()) : [];
    if (
      offered.length > 0 &&
      !offered.includes(LEGACY_PROTOCOL) &&
      !offered.includes(MODERN_PROTOCOL)
    ) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n' +
          `Unsupported WebSocket sub-protocol "${header}": use ${MODERN_PROTOCOL} or ${LEGACY_PROTOCOL}.\n`,
      );
      return;
    }
    const target =
      offered.includes(LEGACY_PROTOCOL) && !offered.includes(MODERN_PROTOCOL) ? legacy : modern;
    target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      // Clients get a 1001 close; one that does not finish the handshake (it stopped
      // reading) would hold the shutdown for ws's 30 s, so it is cut after a grace.
      const cut = setTimeout(() => {
        for (const client of [...modern.clients, ...legacy.clients]) client.terminate();
      }, CLOSE_GRACE_MS);
      for (const client of legacy.clients) client.close(1001, 'Going away');
      await Promise.all([disposeModern(), new Promise((resolve) => legacy.close(resolve))]);
      clearTimeout(cut);
    },
  };
}
