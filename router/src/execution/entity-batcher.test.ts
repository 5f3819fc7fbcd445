import { buildSchema, graphql } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { batchEntityFetches } from './entity-batcher.js';

const ENTITIES =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Message{text}}}';

/** A subgraph that answers `_entities` with one entity per representation, and records calls. */
function fakeSubgraph(answer?: (reps: { id: string }[]) => GatewayGraphQLResponse) {
  const calls: { query: string | undefined; representations: { id: string }[] }[] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const source: GraphQLDataSource = {
    async process({ request }) {
      const representations = (request.variables?.['representations'] ?? []) as { id: string }[];
      calls.push({ query: request.query, representations });
      await gate;
      return (
        answer?.(representations) ?? {
          data: { _entities: representations.map((r) => ({ text: `text ${r.id}` })) },
        }
      );
    },
  };
  return {
    source,
    calls,
    /** Holds the requests from now on; returns what answers these ones alone. */
    hold: (): (() => void) => {
      let open!: () => void;
      gate = new Promise((resolve) => (release = open = resolve));
      return open;
    },
    release: () => release(),
  };
}

/** A subgraph that runs what it is sent with graphql-js, and records each request. */
function executableSubgraph() {
  const schema = buildSchema(`
    scalar _Any
    type Message { id: ID! text: String createdAt: String broken: String translated(locale: String): String }
    union _Entity = Message
    type Query { _entities(representations: [_Any!]!): [_Entity]! }
  `);
  const message = ({ id }: { id: string }) => ({
    __typename: 'Message',
    id,
    text: `text ${id}`,
    createdAt: `at ${id}`,
    broken: () => {
      throw new Error(`broken ${id}`);
    },
    translated: ({ locale }: { locale?: string }) => `${locale} ${id}`,
  });
  const calls: string[] = [];
  const source: GraphQLDataSource = {
    async process({ request }) {
      calls.push(request.query ?? '');
      const result = await graphql({
        schema,
        source: request.query ?? '',
        variableValues: request.variables ?? null,
        operationName: request.operationName ?? null,
        rootValue: {
          _entities: ({ representations }: { representations: { id: string }[] }) =>
            representations.map(message),
        },
      });
      return JSON.parse(JSON.stringify(result)) as GatewayGraphQLResponse;
    },
  };
  return { source, calls };
}

const fetchOf = (
  ids: string[],
  query = ENTITIES,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  ({
    kind: 'incoming operation',
    request: {
      query,
      variables: { ...extra, representations: ids.map((id) => ({ __typename: 'Message', id })) },
    },
    context: { headers },
  }) as unknown as GraphQLDataSourceProcessOptions;

describe('batchEntityFetches', () => {
  it('sends concurrent fetches of the same query as one request and splits the answer', async () => {
    const subgraph = fakeSubgraph();
    const batched = batchEntityFetches(subgraph.source);

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3'])),
      batched.process(fetchOf(['4'])),
    ]);

    expect(subgraph.calls.map((c) => c.representations.map((r) => r.id))).toEqual([
      ['1', '2', '3', '4'],
    ]);
    expect(results.map((r) => r.data)).toEqual([
      { _entities: [{ text: 'text 1' }] },
      { _entities: [{ text: 'text 2' }, { text: 'text 3' }] },
      { _entities: [{ text: 'text 4' }] },
    ]);
  });

  it("never sends one caller's fetch with another's forwarded headers", async () => {
    const subgraph = fakeSubgraph();
    const seen: unknown[] = [];
    const batched = batchEntityFetches({
      process: (options) => {
        seen.push(options.context);
        return subgraph.source.process(options);
      },
    });
    const alice = { authorization: 'Bearer alice' };
    const bob = { authorization: 'Bearer bob' };

    const results = await Promise.all([
      batched.process(fetchOf(['1'], ENTITIES, {}, alice)),
      batched.process(fetchOf(['2'], ENTITIES, {}, bob)),
      batched.process(fetchOf(['3'], ENTITIES, {}, alice)),
      batched.process(fetchOf(['4'])),
    ]);

    const sent = subgraph.calls.map((c) => c.representations.map((r) => r.id));
    expect(sent).toEqual([['1', '3'], ['2'], ['4']]);
    expect(seen).toEqual([{ headers: alice }, { headers: bob }, { headers: {} }]);
    expect(results.map((r) => r.data)).toEqual([
      { _entities: [{ text: 'text 1' }] },
      { _entities: [{ text: 'text 2' }] },
      { _entities: [{ text: 'text 3' }] },
      { _entities: [{ text: 'text 4' }] },
    ]);
  });

  it('gathers the fetches made while a batch is in flight into the next one', async () => {
    const subgraph = fakeSubgraph();
    const batched = batchEntityFetches(subgraph.source);
    subgraph.hold();
    const first = batched.process(fetchOf(['1']));
    await new Promise((resolve) => setImmediate(resolve)); // the first batch leaves
    const later = [batched.process(fetchOf(['2'])), batched.process(fetchOf(['3']))];
    subgraph.release();

    await Promise.all([first, ...later]);
    expect(subgraph.calls.map((c) => c.representations.map((r) => r.id))).toEqual([
      ['1'],
      ['2', '3'],
    ]);
  });

  it('sends the fetches behind a request that does not answer in patienceMs on their own', async () => {
    const subgraph = fakeSubgraph();
    const batched = batchEntityFetches(subgraph.source, { patienceMs: 20 });
    const answerSlow = subgraph.hold();
    const slow = batched.process(fetchOf(['slow']));
    await new Promise((resolve) => setImmediate(resolve)); // it leaves, and hangs
    subgraph.hold();
    subgraph.release(); // requests from now on answer at once
    const later = [batched.process(fetchOf(['2'])), batched.process(fetchOf(['3']))];
    const results = await Promise.all(later);
    expect(results.map((r) => r.data)).toEqual([
      { _entities: [{ text: 'text 2' }] },
      { _entities: [{ text: 'text 3' }] },
    ]);
    expect(subgraph.calls.map((c) => c.representations.map((r) => r.id))).toEqual([
      ['slow'],
      ['2', '3'],
    ]);
    answerSlow();
    expect((await slow).data).toEqual({ _entities: [{ text: 'text slow' }] });
  });

  it('sends a subgraph that answers nobody at most two requests, however long the fetches wait', async () => {
    vi.useFakeTimers();
    try {
      const subgraph = fakeSubgraph();
      const batched = batchEntityFetches(subgraph.source, { patienceMs: 100 });
      const answer = subgraph.hold();
      const pending = [batched.process(fetchOf(['1']))];
      for (let id = 2; id <= 10; id++) {
        await vi.advanceTimersByTimeAsync(150); // each waits longer than its patience
        pending.push(batched.process(fetchOf([String(id)])));
      }
      await vi.advanceTimersByTimeAsync(150);
      expect(subgraph.calls.map((c) => c.representations.map((r) => r.id))).toEqual([['1'], ['2']]);
      answer();
      await vi.advanceTimersByTimeAsync(0);
      expect((await Promise.all(pending)).map((r) => r.data)).toEqual(
        Array.from({ length: 10 }, (_, i) => ({ _entities: [{ text: `text ${i + 1}` }] })),
      );
      // What waited goes in one request once one is answered.
      expect(subgraph.calls.map((c) => c.representations.length)).toEqual([1, 1, 8]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends at most maxRepresentations per request, in order, one request at a time', async () => {
    const subgraph = fakeSubgraph();
    const batched = batchEntityFetches(subgraph.source, { maxRepresentations: 1000 });
    const idsOf = (member: number) => Array.from({ length: 400 }, (_, i) => `${member}.${i}`);
    subgraph.hold();

    const pending = [0, 1, 2, 3, 4].map((member) => batched.process(fetchOf(idsOf(member))));
    await new Promise((resolve) => setImmediate(resolve)); // the first chunk leaves
    expect(subgraph.calls).toHaveLength(1);
    subgraph.release();
    const results = await Promise.all(pending);

    // 400 + 400 fit in 1000 and a third would not; a fetch is never split.
    expect(subgraph.calls.map((c) => c.representations.length)).toEqual([800, 800, 400]);
    expect(subgraph.calls.flatMap((c) => c.representations.map((r) => r.id))).toEqual(
      [0, 1, 2, 3, 4].flatMap(idsOf),
    );
    expect(results.map((r) => r.data)).toEqual(
      [0, 1, 2, 3, 4].map((member) => ({
        _entities: idsOf(member).map((id) => ({ text: `text ${id}` })),
      })),
    );
  });

  it('sends a fetch larger than maxRepresentations alone and whole, keeping the order', async () => {
    const subgraph = fakeSubgraph();
    const batched = batchEntityFetches(subgraph.source, { maxRepresentations: 3 });

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3', '4', '5'])),
      batched.process(fetchOf(['6'])),
      batched.process(fetchOf(['7', '8'])),
    ]);

    expect(subgraph.calls.map((c) => c.representations.map((r) => r.id))).toEqual([
      ['1'],
      ['2', '3', '4', '5'],
      ['6', '7', '8'],
    ]);
    expect(results.map((r) => r.data?.['_entities'])).toEqual([
      [{ text: 'text 1' }],
      [{ text: 'text 2' }, { text: 'text 3' }, { text: 'text 4' }, { text: 'text 5' }],
      [{ text: 'text 6' }],
      [{ text: 'text 7' }, { text: 'text 8' }],
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses maxRepresentations %s',
    (maxRepresentations) => {
      expect(() => batchEntityFetches(fakeSubgraph().source, { maxRepresentations })).toThrow(
        RangeError,
      );
    },
  );

  it('merges fetches with other queries or variables into one request, answered as if alone', async () => {
    const subgraph = executableSubgraph();
    const batched = batchEntityFetches(subgraph.source);
    const other = ENTITIES.replace('text', 'createdAt');
    const translated =
      'query Translated($representations:[_Any!]!,$locale:String){_entities(representations:$representations){...M}} fragment M on Message{translated(locale:$locale)}';
    const fetches = [
      fetchOf(['1']),
      fetchOf(['2'], other),
      fetchOf(['3', '4'], translated, { locale: 'fr' }),
      fetchOf(['5'], translated, { locale: 'de' }),
      fetchOf(['6']),
    ];

    const merged = await Promise.all(fetches.map((fetch) => batched.process(fetch)));

    expect(subgraph.calls).toHaveLength(1);
    const alone = await Promise.all(fetches.map((fetch) => subgraph.source.process(fetch)));
    expect(merged).toEqual(alone);
    expect(merged[2]!.data).toEqual({
      _entities: [{ translated: 'fr 3' }, { translated: 'fr 4' }],
    });
  });

  it('sends a query of another shape than the planner sends on its own', async () => {
    const subgraph = executableSubgraph();
    const batched = batchEntityFetches(subgraph.source);
    const twoFields =
      'query($representations:[_Any!]!){_entities(representations:$representations){...on Message{text}} again: _entities(representations:$representations){__typename}}';

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'], twoFields)),
    ]);

    expect(subgraph.calls).toEqual([ENTITIES, twoFields]);
    expect(results[1]!.data).toEqual({
      _entities: [{ text: 'text 2' }],
      again: [{ __typename: 'Message' }],
    });
  });

  it("gives each error within a merged request to its own query's fetch", async () => {
    const subgraph = executableSubgraph();
    const batched = batchEntityFetches(subgraph.source);
    const failing = ENTITIES.replace('text', 'broken');

    const [plain, broken] = await Promise.all([
      batched.process(fetchOf(['1', '2'])),
      batched.process(fetchOf(['3', '4'], failing)),
    ]);

    expect(subgraph.calls).toHaveLength(1);
    expect(plain).toEqual({ data: { _entities: [{ text: 'text 1' }, { text: 'text 2' }] } });
    expect(broken.data).toEqual({ _entities: [{ broken: null }, { broken: null }] });
    expect(broken.errors?.map((e) => e.path)).toEqual([
      ['_entities', 0, 'broken'],
      ['_entities', 1, 'broken'],
    ]);
  });

  it('gives each error about an entity to its fetch, renumbered, and shared errors to all', async () => {
    const subgraph = fakeSubgraph((reps) => ({
      data: { _entities: reps.map((r) => (r.id === '3' ? null : { text: r.id })) },
      errors: [
        { message: 'no 3', path: ['_entities', 2, 'text'] },
        { message: 'everyone', extensions: { code: 'X' } },
      ],
    }));
    const batched = batchEntityFetches(subgraph.source);

    const [a, b] = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3'])),
    ]);

    expect(a.errors).toEqual([{ message: 'everyone', extensions: { code: 'X' } }]);
    expect(b.errors).toEqual([
      { message: 'no 3', path: ['_entities', 1, 'text'] },
      { message: 'everyone', extensions: { code: 'X' } },
    ]);
    expect(b.data).toEqual({ _entities: [{ text: '2' }, null] });
  });

  it('gives no fetch an entity when the subgraph answers with the wrong number of them', async () => {
    // One entity short: split by offset, fetch 2 would get entity 3 and fetch 1 entity 2.
    const subgraph = fakeSubgraph((reps) => ({
      data: { _entities: reps.slice(1).map((r) => ({ text: `text ${r.id}` })) },
      errors: [
        { message: 'about one entity', path: ['_entities', 0, 'text'] },
        { message: 'everyone', extensions: { code: 'X' } },
      ],
    }));
    const batched = batchEntityFetches(subgraph.source);

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3'])),
    ]);

    expect(subgraph.calls).toHaveLength(1);
    for (const result of results) {
      expect(result.data).toBeNull();
      // An error about `_entities[i]` cannot be placed either, so it goes to nobody.
      expect(result.errors).toEqual([
        {
          message: 'The subgraph returned 2 entities for 3 representations.',
          extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
        },
        { message: 'everyone', extensions: { code: 'X' } },
      ]);
    }
  });

  it.each([
    ['null', { _entities: null }],
    ['an object', { _entities: { text: 'text 1' } }],
    ['missing', {}],
  ])('fails every fetch of a batch whose _entities is %s', async (_, data) => {
    const subgraph = fakeSubgraph(() => ({ data }));
    const batched = batchEntityFetches(subgraph.source);

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'])),
    ]);

    expect(results).toEqual(
      [1, 2].map(() => ({
        data: null,
        errors: [
          {
            message: 'The subgraph returned no _entities list for 2 representations.',
            extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
          },
        ],
      })),
    );
  });

  it('checks the entity count of a fetch sent alone too', async () => {
    const subgraph = fakeSubgraph(() => ({ data: { _entities: [] } }));
    const batched = batchEntityFetches(subgraph.source);

    const result = await batched.process(fetchOf(['1']));

    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.['code'])).toEqual([
      'SUBGRAPH_INVALID_RESPONSE',
    ]);
  });

  it('passes an answer with errors and no data to every fetch', async () => {
    const subgraph = fakeSubgraph(() => ({ data: null, errors: [{ message: 'down' }] }));
    const batched = batchEntityFetches(subgraph.source);

    const results = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'])),
    ]);

    expect(results).toEqual([1, 2].map(() => ({ data: null, errors: [{ message: 'down' }] })));
  });

  it('fails every fetch of a batch whose request failed', async () => {
    const failing: GraphQLDataSource = { process: () => Promise.reject(new Error('down')) };
    const batched = batchEntityFetches(failing);
    const results = await Promise.allSettled([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('passes other operations through untouched', async () => {
    const subgraph = fakeSubgraph(() => ({ data: { message: { text: 'hi' } } }));
    const batched = batchEntityFetches(subgraph.source);
    const query = {
      kind: 'incoming operation',
      request: { query: '{ message(id: "1") { text } }' },
      context: {},
    };
    expect(await batched.process(query as unknown as GraphQLDataSourceProcessOptions)).toEqual({
      data: { message: { text: 'hi' } },
    });
  });
});
