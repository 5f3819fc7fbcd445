import { describe, expect, it } from 'vitest';
import { LogBudget } from './log-budget.js';

describe('LogBudget', () => {
  it('writes the first lines of a kind in an interval, then counts, and says how many it left out', () => {
    let now = 0;
    const budget = new LogBudget(3, 1_000, () => now);
    const taken = Array.from({ length: 10_000 }, () => budget.take('invalid event'));
    expect(taken.filter(Boolean)).toEqual([{ skipped: 0 }, { skipped: 0 }, { skipped: 0 }]);

    now = 1_000;
    expect(budget.take('invalid event')).toEqual({ skipped: 9_997 });
    expect(budget.take('invalid event')).toEqual({ skipped: 0 });
  });

  it('keeps each kind apart', () => {
    let now = 0;
    const budget = new LogBudget(1, 1_000, () => now);
    expect(budget.take('a')).toEqual({ skipped: 0 });
    expect(budget.take('a')).toBeUndefined();
    expect(budget.take('b')).toEqual({ skipped: 0 });
    now = 5_000;
    expect(budget.take('b')).toEqual({ skipped: 0 });
    expect(budget.take('a')).toEqual({ skipped: 1 });
  });
});
