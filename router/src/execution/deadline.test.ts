import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { DeadlineExceededError, withDeadline } from './deadline.js';

const aFetch = { request: { query: '{ a }' } } as unknown as GraphQLDataSourceProcessOptions;

describe('withDeadline', () => {
  // Fake timers: the test moves the clock itself, and counts the timers still set.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a fetch still unanswered at its deadline, not before', async () => {
    const silent: GraphQLDataSource = { process: () => new Promise(() => undefined) };
    let outcome: unknown;
    void withDeadline(silent, 100)
      .process(aFetch)
      .catch((error: unknown) => (outcome = error));

    await vi.advanceTimersByTimeAsync(99);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toBeInstanceOf(DeadlineExceededError);
    expect(outcome).toMatchObject({ timeoutMs: 100 });
  });

  it('passes an answer through and leaves no timer running', async () => {
    const answering: GraphQLDataSource = { process: async () => ({ data: { a: 1 } }) };

    expect(await withDeadline(answering, 100).process(aFetch)).toEqual({ data: { a: 1 } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes a failure through and leaves no timer running', async () => {
    const down = new Error('down');
    const failing: GraphQLDataSource = { process: () => Promise.reject(down) };

    await expect(withDeadline(failing, 100).process(aFetch)).rejects.toBe(down);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer running when the source throws instead of rejecting', async () => {
    const throwing: GraphQLDataSource = {
      process: () => {
        throw new Error('bug');
      },
    };

    await expect(withDeadline(throwing, 100).process(aFetch)).rejects.toThrow('bug');
    expect(vi.getTimerCount()).toBe(0);
  });
});
