import { describe, expect, it } from 'vitest';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { batchEntityFetches } from './entity-batcher.js';
import { ENTITIES, executableSubgraph, fakeSubgraph, fetchOf } from './entity-batcher-fixture.js';

describe('batchEntityFetches: merged requests and their answers', () => {
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

  it('gives each error about an entity to its fetch, renumbered', async () => {
    const subgraph = fakeSubgraph((reps) => ({
      data: { _entities: reps.map((r) => (r.id === '3' ? null : { text: r.id })) },
      errors: [{ message: 'no 3', path: ['_entities', 2, 'text'] }],
    }));
    const batched = batchEntityFetches(subgraph.source);

    const [a, b] = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3'])),
    ]);

    expect(subgraph.calls).toHaveLength(1);
    expect(a).toEqual({ data: { _entities: [{ text: '1' }] } });
    expect(b.errors).toEqual([{ message: 'no 3', path: ['_entities', 1, 'text'] }]);
    expect(b.data).toEqual({ _entities: [{ text: '2' }, null] });
  });

  // An error that names no entity could be any fetch's: each is asked again on its own.
  it('sends each fetch again alone when an error names no entity: only its own errors reach it', async () => {
    const subgraph = fakeSubgraph((reps) => ({
      data: { _entities: reps.map((r) => ({ text: r.id })) },
      ...(reps.some((r) => r.id === '3') && {
        errors: [{ message: 'quota exceeded for 3', extensions: { code: 'X' } }],
      }),
    }));
    const batched = batchEntityFetches(subgraph.source);

    const [a, b] = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2', '3'])),
    ]);

    expect(subgraph.calls.map((call) => call.representations.map((r) => r.id))).toEqual([
      ['1', '2', '3'],
      ['1'],
      ['2', '3'],
    ]);
    expect(a).toEqual({ data: { _entities: [{ text: '1' }] } });
    expect(b).toEqual({
      data: { _entities: [{ text: '2' }, { text: '3' }] },
      errors: [{ message: 'quota exceeded for 3', extensions: { code: 'X' } }],
    });
  });

  it('sends each query of a merged request again alone when an error names no entity', async () => {
    const subgraph = executableSubgraph();
    // The same subgraph, its errors stripped of where they are.
    const pathless: GraphQLDataSource = {
      async process(options) {
        const { errors, ...response } = await subgraph.source.process(options);
        return errors
          ? { ...response, errors: errors.map(({ message }) => ({ message })) }
          : response;
      },
    };
    const batched = batchEntityFetches(pathless);
    const failing = ENTITIES.replace('text', 'text broken');

    const [plain, broken] = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'], failing)),
    ]);

    expect(subgraph.calls.slice(1)).toEqual([ENTITIES, failing]);
    expect(plain).toEqual({ data: { _entities: [{ text: 'text 1' }] } });
    expect(broken).toEqual({
      data: { _entities: [{ text: 'text 2', broken: null }] },
      errors: [{ message: 'broken 2' }],
    });
  });

  it('sends each fetch again alone when the answer has no data: a fetch that succeeds alone keeps its entities', async () => {
    // A non-null field of entity 2 failing takes the whole `_entities` list with it.
    const subgraph = fakeSubgraph((reps) =>
      reps.some((r) => r.id === '2')
        ? {
            data: null,
            errors: [{ message: 'no 2', path: ['_entities', reps.length - 1, 'text'] }],
          }
        : { data: { _entities: reps.map((r) => ({ text: r.id })) } },
    );
    const batched = batchEntityFetches(subgraph.source);

    const [a, b] = await Promise.all([
      batched.process(fetchOf(['1'])),
      batched.process(fetchOf(['2'])),
    ]);

    expect(subgraph.calls).toHaveLength(3);
    expect(a).toEqual({ data: { _entities: [{ text: '1' }] } });
    expect(b).toEqual({
      data: null,
      errors: [{ message: 'no 2', path: ['_entities', 0, 'text'] }],
    });
  });

  it('gives no fetch an entity when the subgraph answers with the wrong number of them', async () => {
    // One entity short: split by offset, fetch 2 would get entity 3 and fetch 1 entity 2.
    const subgraph = fakeSubgraph((reps) => ({
      data: { _entities: reps.slice(1).map((r) => ({ text: `text ${r.id}` })) },
      errors: [{ message: 'about one entity', path: ['_entities', 0, 'text'] }],
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

  it.each([
    ['the same query', ENTITIES],
    ['another query', ENTITIES.replace('text', 'createdAt')],
  ])(
    'passes an answer with no data and errors that name nothing to every fetch (%s), asking nothing more',
    async (_, second) => {
      const subgraph = fakeSubgraph(() => ({ data: null, errors: [{ message: 'down' }] }));
      const batched = batchEntityFetches(subgraph.source);

      const results = await Promise.all([
        batched.process(fetchOf(['1'])),
        batched.process(fetchOf(['2'], second)),
      ]);

      expect(subgraph.calls).toHaveLength(1);
      expect(results).toEqual([1, 2].map(() => ({ data: null, errors: [{ message: 'down' }] })));
    },
  );

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
