import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy passed on. */
export interface RecordedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: { query?: string; variables?: Record<string, unknown> };
}

export interface RecordingProxy {
  /** Where to send the subgraph's requests instead. */
  readonly url: string;
  /** What reached the subgraph through the proxy, in order. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of a subgraph that records each request's headers and body. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: req.headers, body: JSON.parse(text) as RecordedRequest['body'] });
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
