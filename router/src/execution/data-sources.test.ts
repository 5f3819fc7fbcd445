import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphQLDataSourceProcessOptions, ServiceMap } from '@apollo/gateway';
import { pino } from 'pino';
import { GraphQLError } from 'graphql';
import { noopInstrumentation, type SubgraphOutcome } from '../instrumentation.js';
import { createServiceMap, subgraphFailure, type DataSourcesOptions } from './data-sources.js';

const ENTITIES =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Message{text}}}';

const fetchOf = (ids: string[]) =>
  ({
    kind: 'incoming operation',
    request: {
      query: ENTITIES,
      variables: { representations: ids.map((id) => ({ __typename: 'Message', id })) },
    },
    context: {},
    incomingRequestContext: {},
  }) as unknown as GraphQLDataSourceProcessOptions;

describe('createServiceMap', () => {
  // A subgraph over HTTP that answers `_entities` with one entity per representation and
  // records the ids each request carried; while `hanging`, it answers nothing.
  let server: Server;
  let url: string;
  let requests: string[][];
  let hanging: boolean;
  let requestArrived: () => void;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as {
          variables: { representations: { id: string }[] };
        };
        requests.push(variables.representations.map((r) => r.id));
        requestArrived();
        if (hanging) return;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            data: { _entities: variables.representations.map((r) => ({ text: `text ${r.id}` })) },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  beforeEach(() => {
    requests = [];
    hanging = false;
    requestArrived = () => undefined;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const messageSource = (options: Partial<DataSourcesOptions> = {}) => {
    const map: ServiceMap = createServiceMap({
      urls: new Map([['message', url]]),
      eventsGraph: 'events',
      eventsSource: { process: () => Promise.resolve({}) },
      timeoutMs: 5_000,
      logger: pino({ level: 'silent' }),
      ...options,
    });
    return map['message']!;
  };

  it('bounds the representations of a batched request by maxBatchRepresentations', async () => {
    const source = messageSource({ maxBatchRepresentations: 2 });

    const results = await Promise.all([
      source.process(fetchOf(['1'])),
      source.process(fetchOf(['2'])),
      source.process(fetchOf(['3'])),
    ]);

    expect(requests).toEqual([['1', '2'], ['3']]);
    expect(results.map((r) => r.data)).toEqual(
      ['1', '2', '3'].map((id) => ({ _entities: [{ text: `text ${id}` }] })),
    );
  });

  it('times a fetch out at its deadline, counting the time it queued behind another', async () => {
    hanging = true;
    // Long enough that a busy machine's delays (tens of ms) stay far below the margin.
    const timeoutMs = 1_000;
    const source = messageSource({ timeoutMs });
    const firstArrived = new Promise<void>((resolve) => (requestArrived = resolve));
    const first = source.process(fetchOf(['1']));
    await firstArrived; // the first request is in flight, so the next fetch queues behind it

    const queuedAt = performance.now();
    const second = await source.process(fetchOf(['2']));
    const took = performance.now() - queuedAt;

    expect(second.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBGRAPH_TIMEOUT']);
    // A timeout per HTTP request let it wait out the first request's, then its own: ~2x.
    expect(took).toBeLessThan(1.5 * timeoutMs);
    expect((await first).errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBGRAPH_TIMEOUT']);
  });

  it('reports each request after batching, with its subgraph and outcome', async () => {
    const reported: [string, SubgraphOutcome][] = [];
    const source = messageSource({
      maxBatchRepresentations: 2,
      instrumentation: {
        ...noopInstrumentation,
        subgraphRequestFinished: (subgraph, outcome, seconds) => {
          expect(seconds).toBeGreaterThanOrEqual(0);
          reported.push([subgraph, outcome]);
        },
      },
    });
    await Promise.all(['1', '2', '3'].map((id) => source.process(fetchOf([id]))));
    expect(reported).toEqual([
      ['message', 'ok'],
      ['message', 'ok'],
    ]);
  });
});

describe('subgraphFailure', () => {
  it('names what a failed subgraph request ran into', () => {
    expect(subgraphFailure(new DOMException('late', 'TimeoutError'))).toBe('timeout');
    const response = { url: 'http://x', status: 502, statusText: 'Bad Gateway', body: '' };
    expect(subgraphFailure(new GraphQLError('502', { extensions: { response } }))).toBe(
      'http_error',
    );
    expect(subgraphFailure(new TypeError('fetch failed'))).toBe('error');
  });
});
