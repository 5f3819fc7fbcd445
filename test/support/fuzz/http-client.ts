import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import type { AttackContext } from './campaign.js';
import { internalErrors, internalStatus, parseJson } from './oracle.js';
import { rawConnect, socketClosed } from './tcp.js';

/** Connections for well-formed requests, kept alive between them; destroyed after the run. */
export function createAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 64 });
}

export interface HttpRequest {
  /** @default "POST" with a body, "GET" without */
  method?: string;
  /** @default "/graphql" */
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  /** The body, or for an event stream what arrived before the request was dropped. */
  readonly body: string;
}

/**
 * Sends one well-formed request (one hostile input) through `agent` and checks the answer.
 * A streamed answer (SSE, multipart) is read up to its first chunk and then dropped, as a
 * client that leaves at once; `undefined` when the request fails or Node refuses to send
 * it (a header value it will not write).
 */
export function send(
  context: AttackContext,
  agent: Agent,
  request: HttpRequest,
  label: string,
): Promise<HttpAnswer | undefined> {
  return new Promise((resolve) => {
    const { target } = context;
    let finished = false;
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({
        host: target.host,
        port: target.port,
        agent,
        method: request.method ?? (request.body === undefined ? 'GET' : 'POST'),
        path: request.path ?? '/graphql',
        headers: request.headers,
      });
    } catch {
      return resolve(undefined);
    }
    context.track({ destroy: () => finished || req.destroy() });
    const done = (answer?: HttpAnswer): void => {
      finished = true;
      resolve(answer);
    };
    req.on('error', () => done());
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const contentType = String(res.headers['content-type'] ?? '');
      const streamed = /event-stream|multipart/i.test(contentType);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (streamed) req.destroy();
      });
      res.on('error', () => undefined);
      res.once('close', () => {
        checkAnswer(context, status, contentType, body);
        done({ status, contentType, body });
      });
    });
    try {
      req.end(request.body);
    } catch {
      req.destroy();
      return done();
    }
    context.sent(label);
  });
}

/** Reports a 5xx (503: unhealthy), or an internal error in a JSON, SSE or multipart body. */
export function checkAnswer(
  context: AttackContext,
  status: number,
  type: string,
  body: string,
): void {
  if (status === 503) context.finding('unhealthy', 'GET /health answered 503');
  const wrongStatus = internalStatus(status);
  if (wrongStatus) context.finding('internal-error', wrongStatus);
  const documents = /event-stream/i.test(type)
    ? body
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
    : /multipart/i.test(type)
      ? body
          .split('\r\n--graphql')
          .map((part) => part.slice(part.indexOf('\r\n\r\n') + 4))
          .filter((json) => json.startsWith('{'))
      : /json/i.test(type)
        ? [body]
        : [];
  for (const document of documents) {
    const internal = internalErrors(parseJson(document));
    if (internal) return context.finding('internal-error', internal);
  }
}

/** How a raw exchange ends. */
export type RawEnding =
  /** Wait for the router to close (the request asks it to, or is malformed). */
  | 'read'
  /** Half-close our side after writing, then wait for the router to close. */
  | 'half-close'
  /** Drop the connection once the bytes are written. */
  | 'destroy'
  /** Drop it with a TCP reset. */
  | 'reset'
  /** Drop it as soon as the first bytes of an answer arrive. */
  | 'first-byte';

/**
 * Writes bytes over a new TCP connection (one hostile input) and ends as told; returns
 * what the router answered. Status lines are checked for 5xx.
 */
export async function rawHttp(
  context: AttackContext,
  parts: readonly (string | Buffer)[],
  ending: RawEnding,
  label: string,
): Promise<string> {
  const socket = await rawConnect(context);
  if (!socket) return '';
  let answer = '';
  let firstByte!: () => void;
  const gotByte = new Promise<void>((resolve) => (firstByte = resolve));
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
    firstByte();
  });
  const closed = socketClosed(socket);
  for (const part of parts) {
    if (socket.destroyed) break;
    await new Promise<void>((resolve) => socket.write(part, () => resolve()));
  }
  context.sent(label);
  if (ending === 'reset') socket.resetAndDestroy();
  else if (ending === 'destroy') socket.destroy();
  else if (ending === 'half-close') socket.end();
  else if (ending === 'first-byte')
    await Promise.race([gotByte, closed]).then(() => socket.destroy());
  await closed;
  for (const [, status] of answer.matchAll(/(?:^|\r\n)HTTP\/1\.1 (\d{3}) /g)) {
    if (status === '503') context.finding('unhealthy', 'GET /health answered 503');
    const wrong = internalStatus(Number(status));
    if (wrong) context.finding('internal-error', wrong);
  }
  return answer;
}

/** A request's bytes: request line, headers (`Content-Length` added for a body), body. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): string {
  const all = { host: '127.0.0.1', connection: 'close', ...headers };
  if (body !== '' && !('transfer-encoding' in all) && !('content-length' in all)) {
    Object.assign(all, { 'content-length': String(Buffer.byteLength(body)) });
  }
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n${body}`;
}
