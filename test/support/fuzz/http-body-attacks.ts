import type { Agent } from 'node:http';
import type { Attack, AttackContext } from './campaign.js';
import { rawHttp, rawRequest, send } from './http-client.js';
import { ACCEPTS, VICTIM_BODY } from './http-vocabulary.js';
import { hugeQuery, preview, truncate, wrongPayload } from './inputs.js';

/**
 * Hostile request bodies to `/graphql`, over GraphQL over HTTP, SSE and multipart (the
 * `Accept` header picks the protocol): malformed, mistyped, sent as the wrong type, huge,
 * over the limit, cut off, in broken chunks. Well-formed requests go through a keep-alive
 * agent; the rest are written byte by byte over TCP.
 */

/** POSTs `body` with an `Accept` of any protocol: one request, one hostile input. */
function post(
  context: AttackContext,
  agent: Agent,
  body: string | Buffer,
  label: string,
  type = 'application/json',
) {
  const accept = context.rng.pick(ACCEPTS);
  return send(
    context,
    agent,
    { body, headers: { 'content-type': type, accept } },
    `${label}, Accept ${accept}`,
  );
}

/** Attacks that share `agent` for their well-formed requests. */
export function httpBodyAttacks(agent: Agent): readonly Attack[] {
  return [
    {
      name: 'http:malformed-json',
      runs: 400,
      async run(context) {
        const { rng } = context;
        const body = rng.pick<() => string | Buffer>([
          () => truncate(rng, VICTIM_BODY),
          () => '{"query":',
          () => "{'query': '{ __typename }'}",
          () => '{"query":"{ __typename }",}',
          () => '{"query":"{ __typename }"} trailing',
          () => '{"query":NaN}',
          () => '/* comment */ {"query":"{ __typename }"}',
          () => '\ufeff{"query":"{ __typename }"}',
          () =>
            Buffer.from([...Buffer.from('{"query":"{ __typename }'), 0xff, ...Buffer.from('"}')]),
          () => rng.bytes(rng.range(1, 4_096)),
          () => rng.unicode(rng.range(1, 200)),
        ])();
        await post(context, agent, body, `a malformed body ${preview(String(body))}`);
      },
    },
    {
      name: 'http:wrong-types',
      runs: 400,
      async run(context) {
        const payload = wrongPayload(context.rng);
        await post(context, agent, payload.value, payload.label);
      },
    },
    {
      name: 'http:content-type',
      runs: 250,
      async run(context) {
        const type = context.rng.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/graphql',
          'application/json; charset=utf-16',
          'application/json, text/plain',
          'application/jsonx',
          'x',
          ';;;',
        ]);
        await post(context, agent, VICTIM_BODY, `a JSON body sent as ${type}`, type);
      },
    },
    {
      name: 'http:oversized',
      runs: 40,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const size = 1_048_576 + rng.range(1, 100_000);
        const way = rng.pick(['announced', 'chunked', 'sent'] as const);
        const label = `a ${way} body of ${size} bytes, over maxPayloadBytes, Accept ${accept}`;
        if (way === 'sent') {
          await send(
            context,
            agent,
            {
              body: `{"query":"{ __typename }${' '.repeat(size)}"}`,
              headers: { accept, 'content-type': 'application/json' },
            },
            label,
          );
          return;
        }
        const head = rawRequest('POST', '/graphql', {
          accept,
          'content-type': 'application/json',
          ...(way === 'announced'
            ? { 'content-length': String(size) }
            : { 'transfer-encoding': 'chunked' }),
        });
        const chunk = ' '.repeat(64 * 1024);
        const body =
          way === 'announced'
            ? ['{"query":"{ __typename }', chunk]
            : Array.from(
                { length: Math.ceil(size / chunk.length) },
                () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
              );
        await rawHttp(context, [head, ...body], 'read', label);
      },
    },
    {
      name: 'http:dropped-bodies',
      runs: 250,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const chunked = rng.chance(0.5);
        const whole = rng.chance(0.3)
          ? `${VICTIM_BODY}${' '.repeat(rng.range(1, 200_000))}`
          : VICTIM_BODY;
        const sent = whole.slice(0, rng.int(whole.length));
        const headers = { accept, 'content-type': 'application/json' };
        const head = chunked
          ? rawRequest('POST', '/graphql', { ...headers, 'transfer-encoding': 'chunked' })
          : rawRequest('POST', '/graphql', { ...headers, 'content-length': String(whole.length) });
        const body = chunked ? `${sent.length.toString(16)}\r\n${sent}` : sent;
        const ending = rng.pick(['destroy', 'reset', 'half-close'] as const);
        await rawHttp(
          context,
          [head, body],
          ending,
          `${sent.length} of ${whole.length} body bytes${chunked ? ' chunked' : ''}, then ${ending}, Accept ${accept}`,
        );
      },
    },
    {
      name: 'http:bad-chunks',
      runs: 150,
      async run(context) {
        const { rng } = context;
        const accept = rng.pick(ACCEPTS);
        const chunks = rng.pick([
          'zz\r\n{}\r\n0\r\n\r\n',
          `${VICTIM_BODY.length.toString(16)};ext=${'x'.repeat(10_000)}\r\n${VICTIM_BODY}\r\n0\r\n\r\n`,
          `ffffffffffffffff\r\n${VICTIM_BODY}\r\n`,
          `-5\r\n${VICTIM_BODY}\r\n0\r\n\r\n`,
          `${VICTIM_BODY.length.toString(16)}\r\n${VICTIM_BODY}0\r\n\r\n`,
          `1\r\n{\r\n${'1\r\n \r\n'.repeat(5_000)}0\r\n\r\n`,
        ]);
        const head = rawRequest('POST', '/graphql', {
          accept,
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        });
        await rawHttp(
          context,
          [head, chunks],
          rng.pick(['half-close', 'reset'] as const),
          `a chunked body ${preview(chunks, 30)}, Accept ${accept}`,
        );
      },
    },
    {
      name: 'http:huge-queries',
      runs: 60,
      async run(context) {
        const request = hugeQuery(context.rng);
        if (!context.include(request.tags)) return;
        await post(context, agent, request.value, request.label);
      },
    },
  ];
}
