import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { describe, expect, it } from 'vitest';
import {
  noopTrace,
  type FetchTrace,
  type SubgraphOutcome,
  type Trace,
} from '../instrumentation.js';
import { DeadlineExceededError } from './deadline.js';
import { FetchTracer } from './traced-fetch.js';

/** A trace whose fetches record what happens to them. */
function recordingTrace(name: string) {
  const fetches: {
    subgraph: string;
    ended?: SubgraphOutcome;
    batched?: [FetchTrace, number];
    trace: FetchTrace;
  }[] = [];
  const trace: Trace = {
    ...noopTrace,
    fetch(subgraph) {
      const record: (typeof fetches)[number] = { subgraph, trace: undefined! };
      record.trace = {
        headers: { traceparent: `${name}-${fetches.length}` },
        batched: (first, size) => void (record.batched = [first, size]),
        end: (outcome) => void (record.ended = outcome),
      };
      fetches.push(record);
      return record.trace;
    },
  };
  return { trace, fetches };
}

const fetchIn = (context: object) =>
  ({ request: { query: '{ x }' }, context }) as unknown as GraphQLDataSourceProcessOptions;

describe('FetchTracer', () => {
  it('passes an untraced fetch on as it is', async () => {
    const seen: GraphQLDataSourceProcessOptions[] = [];
    const source: GraphQLDataSource = { process: async (o) => (seen.push(o), { data: {} }) };
    const options = fetchIn({});
    await new FetchTracer('user').around(source).process(options);
    expect(seen).toEqual([options]);
    expect(seen[0]).toBe(options);
  });

  it('sends the fetch span’s headers and ends it with the outcome', async () => {
    const { trace, fetches } = recordingTrace('a');
    const seen: GraphQLDataSourceProcessOptions[] = [];
    const answers = [{ data: {} }, { errors: [{ message: 'no' }] }];
    const source: GraphQLDataSource = {
      process: async (o) => (seen.push(o), answers[seen.length - 1]!),
    };
    const traced = new FetchTracer('user').around(source);
    await traced.process(fetchIn({ trace }));
    await traced.process(fetchIn({ trace }));
    expect([...seen[0]!.request.http!.headers]).toEqual([['traceparent', 'a-0']]);
    expect(fetches.map((f) => [f.subgraph, f.ended])).toEqual([
      ['user', 'ok'],
      ['user', 'graphql_error'],
    ]);
  });

  it('ends a fetch past its deadline as a timeout', async () => {
    const { trace, fetches } = recordingTrace('a');
    const source: GraphQLDataSource = {
      process: () => Promise.reject(new DeadlineExceededError(10)),
    };
    await expect(
      new FetchTracer('user').around(source).process(fetchIn({ trace })),
    ).rejects.toThrow(DeadlineExceededError);
    expect(fetches[0]!.ended).toBe('timeout');
  });

  it('tells each merged fetch the first one and the batch size', async () => {
    const a = recordingTrace('a');
    const b = recordingTrace('b');
    const tracer = new FetchTracer('user');
    const sent: GraphQLDataSourceProcessOptions[] = [];
    const source = tracer.around({ process: async (o) => (sent.push(o), { data: {} }) });
    await Promise.all([
      source.process(fetchIn({ trace: a.trace })),
      source.process(fetchIn({ trace: b.trace })),
    ]);
    tracer.merged(sent);
    expect(a.fetches[0]!.batched).toEqual([a.fetches[0]!.trace, 2]);
    expect(b.fetches[0]!.batched).toEqual([a.fetches[0]!.trace, 2]);
  });
});
