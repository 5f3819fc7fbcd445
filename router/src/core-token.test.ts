import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GraphQLError } from 'graphql';
import { ANONYMOUS } from './auth/caller.js';
import { fakeSink, isFinished, setup } from './core-fixture.js';

describe('a subscription whose caller has a token', () => {
  afterEach(() => void vi.useRealTimers());
  const fakeTime = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });

  it('ends with TOKEN_EXPIRED when the token expires, and leaves the hub', async () => {
    fakeTime();
    const { core, request, hub, broker } = setup();
    const caller = { ...ANONYMOUS, claims: { sub: '1' }, expiresAt: Date.now() + 60_000 };
    const client = fakeSink();
    const lifetime = core.subscribe({ ...request, caller }, client.sink);
    vi.advanceTimersByTime(59_999);
    expect(await isFinished(lifetime)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(client.results().map((r) => r.errors?.[0]?.extensions?.['code'])).toEqual([
      'TOKEN_EXPIRED',
    ]);
    expect(await isFinished(lifetime)).toBe(true);
    expect([hub.subscribers, broker.unsubscribes()]).toEqual([0, 1]);
  });

  it('hands the expiry to the sink that closes for it, and clears its timer when it ends first', async () => {
    fakeTime();
    const { core, request } = setup();
    const caller = { ...ANONYMOUS, expiresAt: Date.now() + 1000 };
    const expired: GraphQLError[] = [];
    const client = fakeSink();
    const lifetime = core.subscribe(
      { ...request, caller },
      { ...client.sink, expired: (error) => void expired.push(error) },
    );
    vi.advanceTimersByTime(1000);
    expect(expired.map((e) => e.extensions['code'])).toEqual(['TOKEN_EXPIRED']);
    expect(client.written).toEqual([]);
    expect(await isFinished(lifetime)).toBe(true);

    const left = core.subscribe(
      { ...request, caller: { ...caller, expiresAt: Date.now() + 1000 } },
      client.sink,
    );
    expect(vi.getTimerCount()).toBe(1);
    await left.return!();
    expect(vi.getTimerCount()).toBe(0);
  });
});
