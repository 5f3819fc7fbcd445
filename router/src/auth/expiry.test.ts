import { afterEach, describe, expect, it, vi } from 'vitest';
import { onExpiry } from './expiry.js';

afterEach(() => void vi.useRealTimers());

describe('onExpiry', () => {
  it('waits past the 2^31 ms limit of one timer, then fires once', () => {
    vi.useFakeTimers();
    const expired = vi.fn();
    const days = 40 * 24 * 3600 * 1000;
    onExpiry(Date.now() + days, expired);
    vi.advanceTimersByTime(2 ** 31);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(days - 2 ** 31);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fires at once for a time past, and not at all once cancelled', () => {
    vi.useFakeTimers();
    const past = vi.fn();
    onExpiry(Date.now() - 1, past);
    expect(past).toHaveBeenCalledTimes(1);
    const cancelled = vi.fn();
    const cancel = onExpiry(Date.now() + 1000, cancelled);
    cancel();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
