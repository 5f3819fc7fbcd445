import { describe, expect, it } from 'vitest';
import { TurnBudget } from './turn-budget.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBudget', () => {
  it('lets through what fits in a turn and holds the rest for later turns, in order', async () => {
    const budget = new TurnBudget(10);
    const ran: string[] = [];
    const take = (name: string, cost: number) => budget.take(cost).then(() => ran.push(name));
    const all = Promise.all([take('a', 4), take('b', 4), take('c', 4), take('d', 8), take('e', 2)]);
    await Promise.resolve();
    await Promise.resolve();
    expect(ran).toEqual(['a', 'b']); // c would pass 10, and e waits behind it
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'c']); // c and d would pass 10
    await all;
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('gives a cost larger than the budget a turn of its own', async () => {
    const budget = new TurnBudget(10);
    await budget.take(3);
    let big = false;
    const taking = budget.take(50).then(() => (big = true));
    await Promise.resolve();
    expect(big).toBe(false);
    await taking;
    expect(big).toBe(true);
  });

  it('renews every turn even when nobody waited', async () => {
    const budget = new TurnBudget(10);
    await budget.take(10);
    await nextTurn();
    let through = false;
    void budget.take(10).then(() => (through = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(through).toBe(true);
  });

  it('refuses a budget that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new TurnBudget(bad)).toThrow(RangeError);
  });
});
