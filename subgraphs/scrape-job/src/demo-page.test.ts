import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphLogger } from '@edfs/subgraph-shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDemoPage, DEMO_PAGE_PATH } from './demo-page.js';
import { summarizeHtml } from './html-summary.js';

const logger = createSubgraphLogger('demo-page-test', 'silent');
const warn = vi.spyOn(logger, 'warn');
const maxOpen = 2;
const responses: ServerResponse[] = [];
let server: Server;
let pageUrl: string;

beforeAll(async () => {
  server = createServer(createDemoPage({ logger, maxOpen }));
  server.on('request', (_req, res: ServerResponse) => responses.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${DEMO_PAGE_PATH}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the demo page', () => {
  it('is a whole HTML page with its Content-Length', async () => {
    const response = await fetch(`${pageUrl}?seconds=0`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(html));
    expect(summarizeHtml(html)).toEqual({ title: 'A slow page', wordCount: 353, linkCount: 1 });
  });

  it('spreads its parts over the seconds asked for', async () => {
    const started = performance.now();
    const response = await fetch(`${pageUrl}?seconds=0.3`);
    const reader = response.body!.getReader();
    let reads = 0;
    while (!(await reader.read()).done) reads += 1;
    // Node's timers keep whole milliseconds: allow a few, not a share of the time.
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(reads).toBeGreaterThan(1);
  });

  it.each(['61', '60.5', '-1', '1e3', 'ten', '', '0x10', '10.1234'])(
    'refuses seconds=%j with 400',
    async (seconds) => {
      const response = await fetch(`${pageUrl}?seconds=${encodeURIComponent(seconds)}`);
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(
        'seconds must be a number from 0 to 60, e.g. ?seconds=10.',
      );
    },
  );

  it('refuses other methods than GET with 405', async () => {
    const response = await fetch(pageUrl, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('answers 404 to a client that is not on loopback', () => {
    const res = { writeHead: vi.fn(() => res), end: vi.fn() };
    const req = { method: 'GET', url: DEMO_PAGE_PATH, socket: { remoteAddress: '10.1.2.3' } };
    createDemoPage({ logger })(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    expect(res.writeHead).toHaveBeenCalledWith(404);
  });

  it(`sends at most maxOpen pages at once, refuses one more with 503, and frees a place when a client leaves`, async () => {
    const first = responses.length;
    const clients = Array.from({ length: maxOpen }, () => new AbortController());
    for (const client of clients) {
      const response = await fetch(`${pageUrl}?seconds=60`, { signal: client.signal });
      expect(response.status).toBe(200);
    }
    const refused = await fetch(`${pageUrl}?seconds=60`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(warn).toHaveBeenCalledWith({ maxOpen, refused: 1 }, expect.stringContaining('refused'));

    const left = once(responses[first]!, 'close');
    clients[0]!.abort();
    await left;
    const again = new AbortController();
    const accepted = await fetch(`${pageUrl}?seconds=60`, { signal: again.signal });
    expect(accepted.status).toBe(200);
    for (const client of [...clients, again]) client.abort();
  });
});
