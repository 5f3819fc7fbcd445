import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { countInto, createCounters } from '../counters.js';
import { createAdmission, isRefusal } from './admission.js';

function setup(max: { connections?: number; subscriptions?: number; perConnection?: number }) {
  const counters = createCounters();
  const admission = createAdmission({
    maxConnections: max.connections ?? 10,
    maxSubscriptions: max.subscriptions ?? 10,
    maxSubscriptionsPerConnection: max.perConnection ?? 10,
    instrumentation: countInto(counters),
    logger: pino({ level: 'silent' }),
  });
  return { admission, counters };
}

describe('createAdmission', () => {
  it('refuses the subscription over maxSubscriptions, naming the limit, until one leaves', () => {
    const { admission, counters } = setup({ subscriptions: 2 });
    const [a, b] = [admission.subscription(), admission.subscription()];
    const refused = admission.subscription();
    expect(isRefusal(refused) && refused.toJSON()).toEqual({
      message: expect.stringContaining('(maxSubscriptions)'),
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'maxSubscriptions', max: 2 },
    });
    expect(counters.subscriptionsRefused).toBe(1);
    if (isRefusal(a) || isRefusal(b)) throw new Error('refused below the cap');
    a();
    a(); // a second release gives nothing more back
    expect(admission.subscriptions).toBe(1);
    expect(isRefusal(admission.subscription())).toBe(false);
    expect(isRefusal(admission.subscription())).toBe(true);
  });

  it('refuses the connection over maxConnections', () => {
    const { admission, counters } = setup({ connections: 1 });
    const first = admission.connection();
    const refused = admission.connection();
    expect(isRefusal(refused) && refused.extensions).toEqual({
      code: 'TOO_MANY_CONNECTIONS',
      limit: 'maxConnections',
      max: 1,
    });
    expect(counters.connectionsRefused).toBe(1);
    if (!isRefusal(first)) first();
    expect(admission.connections).toBe(0);
  });

  it('gives the per-connection error with its limit and value', () => {
    const { admission, counters } = setup({ perConnection: 3 });
    expect(admission.perConnection.max).toBe(3);
    expect(admission.perConnection.refuse().extensions).toEqual({
      code: 'TOO_MANY_SUBSCRIPTIONS',
      limit: 'maxSubscriptionsPerConnection',
      max: 3,
    });
    expect(counters.subscriptionsRefused).toBe(1);
  });
});
