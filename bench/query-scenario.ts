/**
 * The query scenario: each operation of bench/query-operations.ts is a cell, run against
 * the router, Hive Gateway and Apollo Gateway (the relay has no GraphQL; Apollo, in turn,
 * serves no subscriptions here, so it sits out the other scenarios).
 */
import type { BenchOptions } from './options.js';
import type { QueryFixture } from './query-fixture.js';
import { queryOperationNames, queryOperations } from './query-operations.js';
import type { QuerySpec } from './load/query-protocol.js';
import type { Cell } from './scenarios.js';
import type { RunningTarget, TargetName } from './targets/target.js';

export function queryCells(options: BenchOptions): Cell[] {
  return queryOperationNames.map((operation) => ({
    scenario: 'query',
    label: `${queryOperations[operation].label}, ${options.queryConcurrency} in flight`,
    subscribers: 0,
    rooms: [],
    operations: 1,
    rate: 0,
    mode: 'query',
    only: {
      targets: ['router', 'hive', 'apollo'],
      why: 'the relay forwards events and answers no GraphQL',
    },
    query: { operation, concurrency: options.queryConcurrency },
  }));
}

/** Why `target` sits out `cell`, or undefined if it runs it. */
export function whyNot(cell: Cell, target: TargetName): string | undefined {
  if (cell.only && !cell.only.targets.includes(target)) return cell.only.why;
  if (target === 'apollo' && cell.mode !== 'query')
    return 'Apollo Gateway runs the query scenario only: it serves no event-driven subscriptions';
  return undefined;
}

export function querySpec(
  cell: Cell,
  target: RunningTarget,
  fixture: QueryFixture,
  options: BenchOptions,
): QuerySpec {
  const { operation, concurrency } = cell.query!;
  const { query, requests } = queryOperations[operation];
  if (!target.httpUrl) throw new Error(`${target.name} answers no GraphQL over HTTP`);
  return {
    url: target.httpUrl,
    requests: requests(fixture).map(({ variables, expected }) => ({
      body: JSON.stringify({ query, variables }),
      expected,
    })),
    concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
  };
}
