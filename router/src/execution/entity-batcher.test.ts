import { describe, expect, it, vi } from 'vitest';
import { batchEntityFetches } from './entity-batcher.js';
import { ENTITIES, fakeSubgraph, fetchOf } from './entity-batcher-fixture.js';

describe('batchEntityFetches: when and how much it sends', () => {
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
});
