import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_SUBGRAPH_RESPONSE_BYTES,
  subgraphFetcher,
  SubgraphFetchTimeoutError,
  SubgraphResponseTooLargeError,
} from './subgraph-fetcher.js';

describe('subgraphFetcher', () => {
  // Answers by path: /json echoes the request, /bad is a 502, /silent never answers.
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/silent') return;
        if (req.url === '/trickle') {
          // A byte every 50 ms: never idle for the timeout, never done within it.
          res.writeHead(200, { 'content-type': 'application/json' });
          const drip = setInterval(() => res.write(' '), 50);
          res.on('close', () => clearInterval(drip));
          return;
        }
        if (req.url === '/huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(1024 * 1024, 32);
          const pump = (): void => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
          return;
        }
        if (req.url === '/bad') {
          res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream gone');
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(
          JSON.stringify({
            method: req.method,
            header: req.headers['x-forwarded'],
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the method, headers and body, and answers as a fetch Response would', async () => {
    const response = await subgraphFetcher(1000)(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded': 'yes' },
      body: '{"query":"{ a }"}',
    });
    expect(response).toMatchObject({
      ok: true,
      status: 200,
      statusText: 'OK',
      url: `${base}/json`,
    });
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.headers.get('x-absent')).toBeNull();
    expect(await response.json()).toEqual({
      method: 'POST',
      header: 'yes',
      body: '{"query":"{ a }"}',
    });
    // RemoteGraphQLDataSource may read the body again to build an error.
    expect(JSON.parse(await response.clone().text())).toMatchObject({ method: 'POST' });
  });

  it('answers an HTTP error status with its reason phrase and body', async () => {
    const response = await subgraphFetcher(1000)(`${base}/bad`, { method: 'POST', body: '{}' });
    expect(response).toMatchObject({ ok: false, status: 502, statusText: 'Bad Gateway' });
    expect(await response.text()).toBe('upstream gone');
  });

  it('rejects a body that is not JSON when asked for JSON', async () => {
    const response = await subgraphFetcher(1000)(`${base}/bad`, { method: 'POST', body: '{}' });
    await expect(response.json()).rejects.toThrow(SyntaxError);
  });

  it('gives up on a subgraph that sends nothing, with a timeout named as fetch names it', async () => {
    const started = performance.now();
    const error = await subgraphFetcher(200)(`${base}/silent`, { method: 'POST', body: '{}' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SubgraphFetchTimeoutError);
    expect((error as Error).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('gives up on a subgraph that trickles its answer past the timeout', async () => {
    const started = performance.now();
    await expect(
      subgraphFetcher(300)(`${base}/trickle`, { method: 'POST', body: '{}' }),
    ).rejects.toBeInstanceOf(SubgraphFetchTimeoutError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses an answer larger than MAX_SUBGRAPH_RESPONSE_BYTES, without holding it', async () => {
    const before = process.memoryUsage().rss;
    await expect(
      subgraphFetcher(10_000)(`${base}/huge`, { method: 'POST', body: '{}' }),
    ).rejects.toBeInstanceOf(SubgraphResponseTooLargeError);
    expect(process.memoryUsage().rss - before).toBeLessThan(4 * MAX_SUBGRAPH_RESPONSE_BYTES);
  });

  it('rejects when the subgraph cannot be reached', async () => {
    await expect(
      subgraphFetcher(1000)('http://127.0.0.1:9/graphql', { method: 'POST', body: '{}' }),
    ).rejects.toThrow();
  });
});
