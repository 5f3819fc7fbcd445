import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { sseFraming } from './sse.js';

describe('sseFraming', () => {
  it('numbers every event of a stream, heartbeats being comments without ids', () => {
    const framing = sseFraming();
    expect(
      framing.open + framing.result(JSON.stringify({ data: { a: 1 } })) + framing.heartbeat,
    ).toBe(':\n\nid: 1\nevent: next\ndata: {"data":{"a":1}}\n\n:\n\n');
    expect(framing.fatal([new GraphQLError('gone', { extensions: { code: 'X' } })])).toBe(
      'id: 2\nevent: next\ndata: {"errors":[{"message":"gone","extensions":{"code":"X"}}]}\n\n',
    );
    // An empty data field, or EventSource would not dispatch it.
    expect(framing.close).toBe('id: 3\nevent: complete\ndata:\n\n');
  });

  it('starts each stream at 1', () => {
    sseFraming().result(JSON.stringify({ data: {} }));
    expect(sseFraming().result(JSON.stringify({ data: {} }))).toMatch(/^id: 1\n/);
  });
});
