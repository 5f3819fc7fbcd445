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
