import { describe, expect, it } from 'vitest';
import { createCors } from './cors.js';

const preflight = (origin: string, method = 'POST', headers?: string) => ({
  origin,
  'access-control-request-method': method,
  ...(headers ? { 'access-control-request-headers': headers } : {}),
});

describe('createCors', () => {
  it('allows no other origin by default, and adds nothing to responses', () => {
    const cors = createCors();
    expect(cors.allows('https://app.example.com')).toBe(false);
    expect(cors.preflight(preflight('https://app.example.com'))).toEqual({
      allowed: false,
      reason: expect.stringContaining('(cors.origins)'),
    });
    expect(cors.responseHeaders({ origin: 'https://app.example.com' })).toEqual({});
  });

  it('answers a preflight from a listed origin with what it may do', () => {
    const cors = createCors({ origins: ['https://app.example.com'], maxAgeSeconds: 60 });
    const answer = cors.preflight(
      preflight('https://app.example.com', 'POST', 'Content-Type, Authorization'),
    );
    expect(answer).toEqual({
      allowed: true,
      headers: {
        'access-control-allow-origin': 'https://app.example.com',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '60',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    });
  });

  it('matches origins exactly, case aside', () => {
    const cors = createCors({ origins: ['https://app.example.com'] });
    expect(cors.allows('HTTPS://APP.EXAMPLE.COM')).toBe(true);
    expect(cors.allows('https://app.example.com:8443')).toBe(false);
    expect(cors.allows('http://app.example.com')).toBe(false);
    expect(cors.allows('https://evil.app.example.com')).toBe(false);
    expect(cors.allows('null')).toBe(false);
  });

  it('refuses a method or a header that is not listed', () => {
    const cors = createCors({ origins: ['https://a.test'], methods: ['POST'] });
    expect(cors.preflight(preflight('https://a.test', 'GET'))).toMatchObject({ allowed: false });
    expect(cors.preflight(preflight('https://a.test', 'POST', 'x-secret'))).toEqual({
      allowed: false,
      reason: 'The request headers x-secret are not allowed (cors.headers).',
    });
  });

  it('tells actual responses apart by Origin', () => {
    const cors = createCors({ origins: ['https://a.test'], credentials: true });
    expect(cors.responseHeaders({ origin: 'https://a.test' })).toEqual({
      vary: 'Origin',
      'access-control-allow-origin': 'https://a.test',
      'access-control-allow-credentials': 'true',
    });
    expect(cors.responseHeaders({ origin: 'https://b.test' })).toEqual({ vary: 'Origin' });
    expect(cors.responseHeaders({})).toEqual({ vary: 'Origin' });
  });

  it('answers "*" to any origin when it is listed without credentials', () => {
    const cors = createCors({ origins: ['*'] });
    expect(cors.responseHeaders({ origin: 'https://b.test' })).toEqual({
      'access-control-allow-origin': '*',
    });
  });

  it('knows a preflight from another OPTIONS request', () => {
    const cors = createCors();
    expect(cors.isPreflight('OPTIONS', preflight('https://a.test'))).toBe(true);
    expect(cors.isPreflight('OPTIONS', { origin: 'https://a.test' })).toBe(false);
    expect(cors.isPreflight('POST', preflight('https://a.test'))).toBe(false);
  });
});
