import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphQLDataSourceProcessOptions, ServiceMap } from '@apollo/gateway';
import { pino } from 'pino';
import { createCounters } from '../counters.js';
import { createServiceMap, type DataSourcesOptions } from './data-sources.js';

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
  // records the ids each request carried.
  let server: Server;
  let url: string;
  let requests: string[][];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as {
          variables: { representations: { id: string }[] };
        };
        requests.push(variables.representations.map((r) => r.id));
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
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const messageSource = (options: Partial<DataSourcesOptions> = {}) => {
    const map: ServiceMap = createServiceMap({
      urls: new Map([['message', url]]),
      eventsGraph: 'events',
      timeoutMs: 5_000,
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
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
});
