import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Cross-origin resource sharing for `/graphql`: which browser pages on other origins may
 * call the router. By default none may; the router's own pages (GraphiQL) are same-origin
 * and need no CORS. The same list decides which origins may open a WebSocket.
 */

export interface CorsOptions {
  /**
   * Origins allowed, exactly as browsers send them (`https://app.example.com`, no path),
   * or `"*"` for any (not with `credentials`). @default [] (no other origin)
   */
  origins: readonly string[];
  /** Methods a cross-origin request may use. @default ["GET", "POST"] */
  methods: readonly string[];
  /**
   * Request headers a cross-origin request may send, beyond the ones browsers always
   * allow. @default ["content-type", "accept", "authorization", "last-event-id"]
   */
  headers: readonly string[];
  /** Let browsers send cookies and HTTP authentication along. @default false */
  credentials: boolean;
  /** How long a browser may keep a preflight's answer. @default 600 */
  maxAgeSeconds: number;
}

export const DEFAULT_CORS: CorsOptions = {
  origins: [],
  methods: ['GET', 'POST'],
  headers: ['content-type', 'accept', 'authorization', 'last-event-id'],
  credentials: false,
  maxAgeSeconds: 600,
};

/** What the router answers to a preflight `OPTIONS` request. */
export type PreflightAnswer =
  | { readonly allowed: true; readonly headers: OutgoingHttpHeaders }
  | { readonly allowed: false; readonly reason: string };

export interface Cors {
  /** Whether pages on `origin` may call the router (and open WebSockets to it). */
  allows(origin: string): boolean;
  /** Whether a request is a CORS preflight: `OPTIONS` with `Origin` and the method asked for. */
  isPreflight(method: string | undefined, headers: IncomingHttpHeaders): boolean;
  /** The answer to a preflight: 204 with these headers, or 403 for the reason given. */
  preflight(headers: IncomingHttpHeaders): PreflightAnswer;
  /** The headers an actual response to a request with these headers carries. */
  responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders;
}

export function createCors(options: Partial<CorsOptions> = {}): Cors {
  const { origins, methods, headers, credentials, maxAgeSeconds } = { ...DEFAULT_CORS, ...options };
  const any = origins.includes('*');
  const allowed = new Set(origins.map((origin) => origin.toLowerCase()));
  const allowedMethods = new Set(methods.map((method) => method.toUpperCase()));
  const allowedHeaders = new Set(headers.map((header) => header.toLowerCase()));
  // Answers differ by Origin unless every origin gets the same `*`.
  const vary = allowed.size > 0 && !(any && !credentials);
  const allows = (origin: string): boolean => any || allowed.has(origin.toLowerCase());

  /** The Origin-dependent part every allowed answer carries. */
  const originHeaders = (origin: string): OutgoingHttpHeaders => ({
    'access-control-allow-origin': any && !credentials ? '*' : origin,
    ...(credentials ? { 'access-control-allow-credentials': 'true' } : {}),
  });

  return {
    allows,
    isPreflight(method, requestHeaders) {
      return (
        method === 'OPTIONS' &&
        typeof requestHeaders.origin === 'string' &&
        typeof requestHeaders['access-control-request-method'] === 'string'
      );
    },
    preflight(requestHeaders) {
      const origin = requestHeaders.origin ?? '';
      if (!allows(origin)) {
        return {
          allowed: false,
          reason: `Cross-origin requests from ${origin} are not allowed (cors.origins).`,
        };
      }
      const method = String(requestHeaders['access-control-request-method']).toUpperCase();
      if (!allowedMethods.has(method)) {
        return { allowed: false, reason: `The method ${method} is not allowed (cors.methods).` };
      }
      const asked = String(requestHeaders['access-control-request-headers'] ?? '')
        .split(',')
        .map((header) => header.trim().toLowerCase())
        .filter((header) => header !== '');
      const refused = asked.filter((header) => !allowedHeaders.has(header));
      if (refused.length > 0) {
        return {
          allowed: false,
          reason: `The request headers ${refused.join(', ')} are not allowed (cors.headers).`,
        };
      }
      return {
        allowed: true,
        headers: {
          ...originHeaders(origin),
          'access-control-allow-methods': [...allowedMethods].join(', '),
          ...(asked.length > 0 ? { 'access-control-allow-headers': asked.join(', ') } : {}),
          'access-control-max-age': String(maxAgeSeconds),
          vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        },
      };
    },
    responseHeaders(requestHeaders) {
      const origin = requestHeaders.origin;
      const headers: OutgoingHttpHeaders = vary ? { vary: 'Origin' } : {};
      return origin !== undefined && allows(origin)
        ? { ...headers, ...originHeaders(origin) }
        : headers;
    },
  };
}
