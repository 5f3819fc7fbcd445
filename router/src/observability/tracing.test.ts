import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { noopTrace } from '../instrumentation.js';
import { createTracing } from './tracing.js';

// Nothing here ends a sampled span, so nothing is sent to the (absent) endpoint.
describe('createTracing', () => {
  const options = { endpoint: 'http://127.0.0.1:9/v1/traces', logger: pino({ level: 'silent' }) };
  const never = createTracing({ ...options, sampleRatio: 0, eventSampleRatio: 0 });
  const always = createTracing({ ...options, sampleRatio: 1, eventSampleRatio: 1 });
  afterAll(() => Promise.all([never.shutdown(), always.shutdown()]));

  it('starts no span for an event not sampled', () => {
    expect(never.field('messageAdded').resolutionStarted()).toBe(noopTrace);
    expect(always.field('messageAdded').resolutionStarted()).not.toBe(noopTrace);
  });

  it("follows the client's sampled flag, else the ratio", () => {
    const id = '0af7651916cd43dd8448eb211c80319c';
    const sampled = `00-${id}-b7ad6b7169203331-01`;
    const unsampled = `00-${id}-b7ad6b7169203331-00`;
    expect(never.requestStarted({ method: 'POST' })).toBe(noopTrace);
    expect(never.requestStarted({ method: 'POST', traceparent: sampled })).not.toBe(noopTrace);
    expect(always.requestStarted({ method: 'POST', traceparent: unsampled })).toBe(noopTrace);
    // A malformed traceparent is ignored: the request starts its own trace.
    expect(always.requestStarted({ method: 'POST', traceparent: 'junk' })).not.toBe(noopTrace);
  });

  it("names a fetch's span in its traceparent, in the request's trace", () => {
    const id = '0af7651916cd43dd8448eb211c80319c';
    const request = never.requestStarted({
      method: 'POST',
      traceparent: `00-${id}-b7ad6b7169203331-01`,
    });
    const { traceparent } = request.phase('execute').fetch('user').headers;
    expect(traceparent).toMatch(new RegExp(`^00-${id}-(?!b7ad6b7169203331)[0-9a-f]{16}-01$`));
  });
});
