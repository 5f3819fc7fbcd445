import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { sseFraming } from './sse.js';

describe('sseFraming', () => {
  it('gives a result its cursor as id, and other events no id, heartbeats being comments', () => {
    const framing = sseFraming();
    expect(
      framing.open + framing.result(JSON.stringify({ data: { a: 1 } }), 'C1') + framing.heartbeat,
    ).toBe(':\n\nid: C1\nevent: next\ndata: {"data":{"a":1}}\n\n:\n\n');
    // No id: an EventSource keeps its last cursor across a refusal or the end.
    expect(framing.result(JSON.stringify({ data: { a: 2 } }))).toBe(
      'event: next\ndata: {"data":{"a":2}}\n\n',
    );
    expect(framing.fatal([new GraphQLError('gone', { extensions: { code: 'X' } })])).toBe(
      'event: next\ndata: {"errors":[{"message":"gone","extensions":{"code":"X"}}]}\n\n',
    );
    // An empty data field, or EventSource would not dispatch it.
    expect(framing.close).toBe('event: complete\ndata:\n\n');
  });
});
