import { describe, expect, it } from 'vitest';
import { countInto, createCounters } from './counters.js';
import { combineInstrumentation, noopInstrumentation } from './instrumentation.js';

describe('combineInstrumentation', () => {
  it('reports to every target', () => {
    const [a, b] = [createCounters(), createCounters()];
    const both = combineInstrumentation(countInto(a), countInto(b), noopInstrumentation);
    const field = both.field('messageAdded');
    field.eventReceived();
    field.delivered(3);
    both.subscriptionRefused('max_subscriptions');
    both.connectionRefused('origin');
    both.subgraphRequestFinished('message', 'ok', 0.01);
    for (const counters of [a, b]) {
      expect(counters).toMatchObject({
        eventsReceived: 1,
        deliveries: 3,
        subscriptionsRefused: 1,
        connectionsRefused: 1,
        subgraphRequests: 1,
      });
    }
  });

  it('builds the hooks of a field once', () => {
    const both = combineInstrumentation(noopInstrumentation, noopInstrumentation);
    expect(both.field('messageAdded')).toBe(both.field('messageAdded'));
  });

  it('is the target itself when there is one', () => {
    expect(combineInstrumentation(noopInstrumentation)).toBe(noopInstrumentation);
  });
});
