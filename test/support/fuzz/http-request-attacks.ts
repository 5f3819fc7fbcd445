import type { Agent } from 'node:http';
import type { Attack } from './campaign.js';
import { rawHttp, rawRequest, send } from './http-client.js';
import {
  ACCEPTS,
  endingFor,
  percentEncode,
  queryString,
  STREAMS,
  VICTIM_BODY,
} from './http-vocabulary.js';
import { preview, roomSubscription, ROOM_SUBSCRIPTION, wrongPayload } from './inputs.js';

/**
 * Hostile requests and connections to the router's port: garbage query strings and
 * headers, bytes that are not HTTP, subscriptions over SSE and multipart dropped at once,
 * pipelined requests, and thousands of short requests.
 */

/** Attacks that share `agent` for their well-formed requests. */
export function httpRequestAttacks(agent: Agent): readonly Attack[] {
  return [
    {
      name: 'http:get-garbage',
      runs: 400,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const query = rng.pick<() => string>([
          () => 'query=%zz',
          () => 'query=%E0%A4%A',
          () => `query=${percentEncode(Buffer.from(rng.unicode(rng.range(1, 100))))}`,
          () => `query=${percentEncode(rng.bytes(rng.range(1, 100)))}`,
          () => 'query={ __typename }&query={ users { name } }',
          () => `query=${encodeURIComponent('{ __typename }')}&variables=notjson`,
          () => `query=${encodeURIComponent(ROOM_SUBSCRIPTION)}&variables=%7B`,
          () => `query[]=x&operationName[]=y`,
          () => `query=${encodeURIComponent('{ __typename }')}&extensions=${'%7B'.repeat(100)}`,
          () => `query=${'a'.repeat(rng.pick([2_000, 10_000, 20_000, 70_000]))}`,
          () =>
            `query=${encodeURIComponent(ROOM_SUBSCRIPTION)}&variables=${encodeURIComponent('{"roomID":">"}')}`,
          () => '&&&==&=',
          () => `${'a=1&'.repeat(2_000)}query=%7B__typename%7D`,
          () => `query=${rng.bytes(20).toString('latin1')}`,
          () => 'query=mutation%20%7B%20__typename%20%7D',
        ])();
        const request = rawRequest('GET', `/graphql?${query}`, { accept });
        await rawHttp(
          context,
          [request],
          endingFor(accept, rng),
          `GET ?${preview(query, 40)}, Accept ${accept}`,
        );
      },
    },
    {
      name: 'http:headers',
      runs: 300,
      async run(context) {
        const { rng } = context;
        const [headers, label] = rng.pick<() => [Record<string, string>, string]>([
          () => [{ 'x-big': 'b'.repeat(rng.pick([8_000, 20_000, 70_000])) }, 'a huge header'],
          () => [
            Object.fromEntries(
              Array.from({ length: rng.range(100, 3_000) }, (_, i) => [`x-h${i}`, rng.string(8)]),
            ),
            'thousands of headers',
          ],
          () => [
            {
              accept: rng.pick([
                'multipart/mixed;subscriptionSpec="1.0',
                'text/event-stream;q=abc',
                ',,,,',
                'x'.repeat(10_000),
                '*/*;q=0',
                'multipart/mixed;subscriptionSpec=1.0;boundary=evil',
                '"',
                'text/event-stream;q=1e999',
              ]),
            },
            'an odd Accept',
          ],
          () => [{ 'content-length': '5', 'Content-Length': '50' }, 'two Content-Lengths'],
          () => [
            { 'content-length': String(VICTIM_BODY.length), 'transfer-encoding': 'chunked' },
            'Content-Length and chunked',
          ],
          () => [
            { 'transfer-encoding': 'chunked, identity' },
            'Transfer-Encoding chunked, identity',
          ],
          () => [{ 'content-length': '-1' }, 'a negative Content-Length'],
          () => [{ 'content-length': '1e3' }, 'Content-Length 1e3'],
          () => [{ 'x y': 'z' }, 'a header name with a space'],
          () => [{ 'x-folded': 'a\r\n  folded' }, 'a folded header'],
          () => [{ 'x-nul': 'a\u0000b' }, 'a NUL in a header'],
          () => [
            {
              'x-bytes': rng
                .bytes(30)
                .toString('latin1')
                .replace(/[\r\n]/g, ''),
            },
            'raw bytes in a header',
          ],
          () => [{ host: '' }, 'an empty Host'],
          () => [
            {
              'last-event-id': rng.pick([
                '-1',
                'x'.repeat(5_000),
                '99999999999999999999',
                '\u00ff',
              ]),
            },
            'an odd Last-Event-ID',
          ],
          () => [{ expect: rng.pick(['100-continue', 'garbage']) }, 'an Expect header'],
        ])();
        const accept = headers['accept'] ?? rng.pick(ACCEPTS);
        const request = rawRequest(
          'POST',
          '/graphql',
          { accept, 'content-type': 'application/json', ...headers },
          VICTIM_BODY,
        );
        await rawHttp(
          context,
          [request],
          endingFor(accept, rng),
          `${label}, Accept ${preview(accept, 30)}`,
        );
      },
    },
    {
      name: 'http:garbage',
      runs: 250,
      async run(context) {
        const { rng } = context;
        // Whether it is a whole request (or a refusal) that the router answers, then closes.
        const [bytes, label, whole] = rng.pick<() => [string | Buffer, string, boolean]>([
          () => [rng.bytes(rng.range(1, 8_192)), 'random bytes', false],
          () => [
            `${rng.string(5).toUpperCase()} /graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
            'an unknown method',
            true,
          ],
          () => ['GET /graphql HTTP/9.9\r\nhost: x\r\n\r\n', 'HTTP/9.9', true],
          () => ['GET /graphql?query=%7B__typename%7D HTTP/1.0\r\n\r\n', 'HTTP/1.0', true],
          () => ['GET /graphql\r\n\r\n', 'HTTP/0.9', true],
          () => ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'the HTTP/2 preface', false],
          () => [Buffer.from('160301020001000100030300', 'hex'), 'a TLS ClientHello', false],
          () => ['\r\n'.repeat(rng.range(10, 5_000)), 'blank lines', false],
          () => [
            'GET http://evil.example/graphql HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n',
            'an absolute URI',
            true,
          ],
          () => [
            `GET /${'../'.repeat(100)}graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
            'a dot-dot path',
            true,
          ],
          () => [
            `GET /graphql?${rng
              .bytes(40)
              .toString('latin1')
              .replace(/[\r\n ]/g, '')} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
            'raw bytes in the path',
            true,
          ],
        ])();
        // Node waits for the rest of a request it has not had whole: end our side instead.
        const ending = whole
          ? rng.pick(['read', 'read', 'half-close', 'reset'] as const)
          : rng.pick(['half-close', 'reset'] as const);
        await rawHttp(context, [bytes], ending, label);
      },
    },
    {
      name: 'http:abort-subscriptions',
      runs: 400,
      async run(context) {
        const { rng } = context;
        const request = roomSubscription(rng);
        if (!context.include(request.tags)) return;
        const accept = rng.pick(STREAMS);
        const get = rng.chance(0.3);
        const bytes = get
          ? rawRequest('GET', `/graphql?${queryString(request.value)}`, { accept })
          : rawRequest(
              'POST',
              '/graphql',
              { accept, 'content-type': 'application/json' },
              request.value,
            );
        const ending = rng.pick(['reset', 'destroy', 'first-byte', 'half-close'] as const);
        await rawHttp(
          context,
          [bytes],
          ending,
          `${get ? 'GET' : 'POST'} ${request.label} over ${accept}, then ${ending}`,
        );
      },
    },
    {
      name: 'http:pipelined',
      runs: 60,
      async run(context) {
        const { rng } = context;
        // Requests one after another on one connection, without waiting for answers; the
        // last asks the router to close, or a malformed one ends the connection early.
        const count = rng.range(10, 60);
        const requests = Array.from({ length: count }, (_, i) => {
          const close = i === count - 1 ? 'close' : 'keep-alive';
          return rng.pick<() => string>([
            () => rawRequest('GET', '/graphql?query=%7B__typename%7D', { connection: close }),
            () => rawRequest('GET', '/health', { connection: close }),
            () =>
              rawRequest(
                'POST',
                '/graphql',
                { connection: close, 'content-type': 'application/json' },
                '{"query":"{ nope }"}',
              ),
            () =>
              rawRequest(
                'POST',
                '/graphql',
                { connection: close, 'content-type': 'application/json' },
                wrongPayload(rng).value,
              ),
            () =>
              rawRequest(
                'POST',
                '/graphql',
                { connection: close, 'content-type': 'text/plain' },
                VICTIM_BODY,
              ),
            () =>
              rawRequest('GET', '/graphql?query=%7B', {
                connection: close,
                accept: 'text/event-stream',
              }),
          ])();
        });
        await rawHttp(
          context,
          [requests.join('')],
          'read',
          `${requests.length} pipelined requests`,
        );
        context.sent(`${requests.length} pipelined requests`, requests.length - 1);
      },
    },
    {
      name: 'http:short-requests',
      runs: 150,
      async run(context) {
        const { rng } = context;
        for (let i = rng.range(10, 40); i > 0 && !context.signal.aborted; i--) {
          const [request, label] = rng.pick<() => [Parameters<typeof send>[2], string]>([
            () => [
              { path: `/graphql?query=${encodeURIComponent('{ __typename }')}` },
              'GET { __typename }',
            ],
            () => [
              {
                body: '{"query":"{ user(id: \\"1\\") { name } }"}',
                headers: { 'content-type': 'application/json' },
              },
              'a user query',
            ],
            () => [
              { body: '{"query":"{ nope }"}', headers: { 'content-type': 'application/json' } },
              'an invalid query',
            ],
            () => [
              { body: VICTIM_BODY, headers: { 'content-type': 'application/json' } },
              'a subscription over plain HTTP',
            ],
            () => [{ path: '/health' }, 'GET /health'],
            () => [
              { path: rng.pick(['/', '/nope', '/graphiql/x.js', '/graphql/', '/health?x']) },
              'another path',
            ],
            () => [{ method: rng.pick(['HEAD', 'OPTIONS', 'DELETE', 'PATCH']) }, 'another method'],
          ])();
          await send(context, agent, request, label);
        }
      },
    },
  ];
}
