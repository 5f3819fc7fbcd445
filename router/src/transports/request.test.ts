import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, readGraphQLRequest, sendHttpError } from './request.js';

describe('readGraphQLRequest', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      readGraphQLRequest(req, 100).then(
        (params) => res.end(JSON.stringify(params)),
        (error: unknown) => sendHttpError(res, error as HttpError),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads a POST body and a GET query string', async () => {
    const post = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ query: '{ a }', variables: { x: 1 } }),
    });
    expect(await post.json()).toEqual({ query: '{ a }', variables: { x: 1 } });
    const get = await fetch(`${url}?query=${encodeURIComponent('{ b }')}&operationName=B`);
    expect(await get.json()).toEqual({ query: '{ b }', operationName: 'B' });
  });

  it.each(['variables', 'extensions'])('says which GET parameter is not JSON: %s', async (name) => {
    const response = await fetch(`${url}?query=${encodeURIComponent('{ b }')}&${name}={x:1}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: `The "${name}" parameter of the query string is not valid JSON.`,
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
  });

  it('refuses a chunked body once it passes the limit, and the client reads the 413', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const req = request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.write(`{"query":"${'x'.repeat(150)}`); // no Content-Length: chunked
      },
    );
    expect(status).toBe(413);
    expect(JSON.parse(body)).toEqual({
      errors: [
        {
          message: 'The request body is larger than the limit of 100 bytes.',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
  });

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(101),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
  });
});

describe('sendHttpError', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // The status and the code the test asks for, from the query string.
    server = createServer((req, res) => {
      const params = new URL(req.url!, 'http://x').searchParams;
      const code = params.get('code');
      sendHttpError(
        res,
        new HttpError(Number(params.get('status')), 'refused', {}, code ? { code } : undefined),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['status=413', 413, 'BAD_REQUEST'],
    ['status=415', 415, 'BAD_REQUEST'],
    ['status=500', 500, 'INTERNAL_SERVER_ERROR'],
    ['status=401&code=UNAUTHENTICATED', 401, 'UNAUTHENTICATED'],
  ])('gives every error a code (%s)', async (query, status, code) => {
    const response = await fetch(`${url}?${query}`);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({
      errors: [{ message: 'refused', extensions: { code } }],
    });
  });
});
