import { describe, expect, it } from 'vitest';
import { eventFetchData } from './event-selection.js';

const event = { __typename: 'Message', id: '1', room: { id: 'r', region: 'eu' } };

describe('eventFetchData', () => {
  it('answers the root field with the event, under its alias', () => {
    expect(
      eventFetchData('subscription{mm:messageAdded(roomID:"1"){__typename id}}', event),
    ).toEqual({ mm: { __typename: 'Message', id: '1' } });
  });

  it('puts each key field under every alias the fetch asks for it by', () => {
    expect(
      eventFetchData(
        'subscription($r:ID!){messageAdded(roomID:$r){__typename id m:id t:__typename}}',
        event,
      ),
    ).toEqual({ messageAdded: { __typename: 'Message', id: '1', m: '1', t: 'Message' } });
  });

  it('follows nested keys, inline fragments and named fragments', () => {
    expect(
      eventFetchData(
        'subscription{messageAdded{...on Message{id r:room{id}} ...F}} fragment F on Message{room{region}}',
        event,
      ),
    ).toEqual({ messageAdded: { id: '1', r: { id: 'r' }, room: { region: 'eu' } } });
  });

  it('merges the selections of a field selected twice, and leaves out what the event lacks', () => {
    expect(
      eventFetchData('subscription{messageAdded{room{id} room{region} missing}}', event),
    ).toEqual({ messageAdded: { room: { id: 'r', region: 'eu' } } });
  });
});
