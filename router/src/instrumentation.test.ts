import { describe, expect, it } from 'vitest';
import { countInto, createCounters } from './counters.js';
import {
  combineInstrumentation,
  noopInstrumentation,
  noopTrace,
  type Instrumentation,
  type Trace,
} from './instrumentation.js';

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

describe('combined traces', () => {
  const tracing = (names: string[]): Instrumentation => ({
    ...noopInstrumentation,
    requestStarted: () => {
      const trace: Trace = {
        ...noopTrace,
        phase: (name) => (names.push(name), trace),
      };
      return trace;
    },
  });

  it('are the no-op trace when no target traces', () => {
    const both = combineInstrumentation(countInto(createCounters()), noopInstrumentation);
    expect(both.requestStarted({ method: 'POST' })).toBe(noopTrace);
    expect(both.field('messageAdded').resolutionStarted()).toBe(noopTrace);
  });

  it('are the one tracing target’s own trace', () => {
    const trace: Trace = { ...noopTrace };
    const one: Instrumentation = { ...noopInstrumentation, requestStarted: () => trace };
    const both = combineInstrumentation(countInto(createCounters()), one);
    expect(both.requestStarted({ method: 'POST' })).toBe(trace);
  });

  it('fan out to every tracing target', () => {
    const a: string[] = [];
    const b: string[] = [];
    combineInstrumentation(tracing(a), tracing(b), noopInstrumentation)
      .requestStarted({ method: 'POST' })
      .phase('parse');
    expect([a, b]).toEqual([['parse'], ['parse']]);
  });
});
