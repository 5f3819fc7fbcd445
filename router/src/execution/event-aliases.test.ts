import { describe, expect, it } from 'vitest';
import type { FetchNode } from '@apollo/query-planner';
import { eventAliases, withEventAliases } from './event-aliases.js';

const fetch = (operation: string): FetchNode => ({
  kind: 'Fetch',
  serviceName: 'events',
  operation,
  operationName: undefined,
  operationKind: 'subscription' as FetchNode['operationKind'],
});

describe('the aliases of the events graph fetch', () => {
  it('reads the aliases on the root field, in inline fragments and named fragments', () => {
    const primary = fetch(
      'subscription { m: messageAdded(roomID: "1") { __typename key: id ... on Message { other: id } ...F } } fragment F on Message { third: id id }',
    );
    expect(eventAliases(primary)).toEqual([
      ['key', 'id'],
      ['other', 'id'],
      ['third', 'id'],
    ]);
    expect(eventAliases(fetch('subscription { messageAdded(roomID: "1") { id } }'))).toEqual([]);
  });

  it('gives an event its fields under their aliases too, leaving the event as it was', () => {
    const event = { __typename: 'Message', id: '1' };
    expect(withEventAliases(event, [['key', 'id']])).toEqual({ ...event, key: '1' });
    expect(event).toEqual({ __typename: 'Message', id: '1' });
  });
});
