import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A page on loopback that the test sends piece by piece, each when it chooses. */
export interface GatedPage {
  readonly url: string;
  /** Resolves when the scraper's request has arrived. */
  requested(): Promise<void>;
  /** Sends the status line and headers, then nothing until `send`. */
  respond(status: number, contentLength: number): void;
  send(chunk: string): void;
  end(): void;
  close(): Promise<void>;
}

export async function startGatedPage(): Promise<GatedPage> {
  let arrived!: (response: ServerResponse) => void;
  const response = new Promise<ServerResponse>((resolve) => (arrived = resolve));
  let res: ServerResponse | undefined;
  const server = createServer((_req, r) => arrived(r));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const current = (): ServerResponse => {
    if (!res) throw new Error('no request yet: await requested() first');
    return res;
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/page.html`,
    async requested() {
      res = await response;
    },
    respond(status, contentLength) {
      current().writeHead(status, { 'content-type': 'text/html', 'content-length': contentLength });
      current().flushHeaders();
    },
    send: (chunk) => void current().write(chunk),
    end: () => current().end(),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
