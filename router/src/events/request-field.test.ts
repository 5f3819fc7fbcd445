import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { PROVIDER_TRAITS } from '../providers/connect.js';
import { readEventsGraphSdl } from '../schema/events-graph.js';
import { bindRequestFields } from './request-field.js';

const providers = new Map([
  ['default', PROVIDER_TRAITS.nats],
  ['cache', PROVIDER_TRAITS.redis],
  ['rabbit', PROVIDER_TRAITS.amqp],
]);

/** Binds `Query.weather` with `directive`, returning `returns`. */
function bind(directive: string, returns = 'Forecast') {
  const types = `
    type Query { weather(city: ID!): ${returns} ${directive} }
    type Forecast @key(fields: "city") { city: ID! }
  `;
  const sdl = parse(
    'directive @eventsRequest(topic: String!, providerId: String) on FIELD_DEFINITION\n' + types,
  );
  const api = buildSchema(types.replace(/@(eventsRequest|key)\([^)]*\)/g, ''));
  return bindRequestFields(readEventsGraphSdl(sdl, 'events'), api, 'events', providers);
}

describe('binding an @eventsRequest field', () => {
  it('renders its subject from the arguments and checks replies as events', () => {
    const weather = bind('@eventsRequest(topic: "weather.{{ args.city }}")').get('weather')!;
    expect(weather.topic.render({ args: { city: 'Paris' } })).toBe('weather.Paris');
    expect(weather.topic.render({ args: { city: 'a.b' } })).toEqual(
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'city' } }),
    );
    expect(weather.validate({ __typename: 'Forecast', city: 'Paris', more: 1 })).toEqual({
      __typename: 'Forecast',
      city: 'Paris',
    });
    expect(weather.validate({ __typename: 'Forecast' })).toEqual(
      expect.objectContaining({ extensions: { code: 'INVALID_EVENT' } }),
    );
  });

  it.each(['cache', 'rabbit'])(
    'stops start-up on provider %s, which has no request/reply',
    (id) => {
      expect(() =>
        bind(`@eventsRequest(topic: "weather.{{ args.city }}", providerId: "${id}")`),
      ).toThrow(
        /^\[events\] Query\.weather: @eventsRequest is not supported by provider "\w+" \(\w+ has no request\/reply\); use a NATS provider$/,
      );
    },
  );

  it('stops start-up on a field that returns no entity, or a topic that reads claims', () => {
    expect(() => bind('@eventsRequest(topic: "weather.{{ args.city }}")', 'String')).toThrow(
      new SchemaError(
        'Query.weather must return an entity with a @key in the events graph',
        'events',
      ),
    );
    expect(() => bind('@eventsRequest(topic: "weather.{{ claims.sub }}")')).toThrow(
      new SchemaError(
        "Query.weather: an @eventsRequest topic renders from the field's arguments only, not claims",
        'events',
      ),
    );
  });
});
