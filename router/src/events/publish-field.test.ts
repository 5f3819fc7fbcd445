import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { PROVIDER_TRAITS } from '../providers/connect.js';
import { readEventsGraphSdl } from '../schema/events-graph.js';
import { bindEventFields } from './event-field.js';
import { bindPublishFields } from './publish-field.js';

const providers = new Map([
  ['default', PROVIDER_TRAITS.nats],
  ['cache', PROVIDER_TRAITS.redis],
]);

const DIRECTIVES = `
  directive @eventsSubscribe(topic: String!, providerId: String) on FIELD_DEFINITION
  directive @eventsPublish(topic: String!, providerId: String) on FIELD_DEFINITION
  type EventsPublishResult { success: Boolean! }
`;

/** Binds the publish fields of an events graph whose SDL is `types`, served as it is. */
function bind(types: string) {
  const sdl = DIRECTIVES + types;
  const api = buildSchema(
    types.replace(/@(eventsSubscribe|eventsPublish|key)\([^)]*\)/g, '') +
      '\ntype Query { ok: Boolean }\ntype EventsPublishResult { success: Boolean! }',
  );
  const graph = readEventsGraphSdl(parse(sdl), 'events');
  const subscriptions = bindEventFields(graph, api, 'events', providers);
  return bindPublishFields(graph, api, 'events', providers, subscriptions);
}

const CHAT = `
  type Subscription {
    messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "room.{{ args.roomID }}.messages")
  }
  type Message @key(fields: "id") { id: ID! }
`;

const mutation = (field: string) => `type Mutation { ${field} }`;

describe('the event a publish sends', () => {
  it('is __typename from the subscription on the topic, then the key from the arguments', () => {
    const announce = bind(
      CHAT +
        mutation(
          'announce(room: ID!, id: ID!, note: String): EventsPublishResult! @eventsPublish(topic: "room.{{ args.room }}.messages")',
        ),
    ).get('announce')!;
    const event = announce.event({ room: 'r1', id: '7', note: 'not part of the key' });
    expect(JSON.stringify(event)).toBe('{"__typename":"Message","id":"7"}');
    expect(announce.topic.render({ args: { room: 'r1' } })).toBe('room.r1.messages');
  });

  it('serializes a key argument as the key field’s scalar, as a subscriber reads it', () => {
    const announce = bind(
      CHAT +
        mutation(
          'announce(roomID: ID!, id: Int!): EventsPublishResult! @eventsPublish(topic: "room.{{ args.roomID }}.messages")',
        ),
    ).get('announce')!;
    expect(announce.event({ roomID: 'r1', id: 7 })).toEqual({ __typename: 'Message', id: '7' });
  });

  it('takes the one type of a union whose key the arguments hold, nested keys too', () => {
    const changed = bind(`
      type Subscription {
        changed(id: ID!): Change @eventsSubscribe(topic: "change.{{ args.id }}")
      }
      union Change = Post | Member
      type Post @key(fields: "id") { id: ID! }
      type Member @key(fields: "org { id } login") { org: Org! login: String! }
      type Org { id: ID! }
      input OrgKey { id: ID! }
      ${mutation('memberChanged(org: OrgKey!, login: String!): EventsPublishResult! @eventsPublish(topic: "change.{{ args.login }}")')}
    `).get('memberChanged')!;
    expect(changed.event({ org: { id: 'o1' }, login: 'ann' })).toEqual({
      __typename: 'Member',
      org: { id: 'o1' },
      login: 'ann',
    });
  });

  it('refuses a value the key field cannot take, as a subscriber would', () => {
    const announce = bind(
      CHAT +
        mutation(
          'announce(roomID: ID!, id: ID): EventsPublishResult! @eventsPublish(topic: "room.{{ args.roomID }}.messages")',
        ),
    ).get('announce')!;
    expect(announce.event({ roomID: 'r1', id: null })).toEqual(
      expect.objectContaining({ extensions: { code: 'INVALID_EVENT' } }),
    );
  });

  it('stops start-up when no subscription of the provider reads the topic', () => {
    for (const directive of [
      '@eventsPublish(topic: "room.{{ args.roomID }}.other")',
      '@eventsPublish(topic: "room.{{ args.roomID }}.messages", providerId: "cache")',
    ]) {
      expect(() =>
        bind(CHAT + mutation(`announce(roomID: ID!, id: ID!): EventsPublishResult! ${directive}`)),
      ).toThrow(
        /^\[events\] Mutation\.announce: @eventsPublish publishes on room\.\*\.\w+, which no @eventsSubscribe field of provider "\w+" reads/,
      );
    }
  });

  it('stops start-up when the arguments hold no key, or the keys of several types', () => {
    expect(() =>
      bind(
        CHAT +
          mutation(
            'announce(roomID: ID!): EventsPublishResult! @eventsPublish(topic: "room.{{ args.roomID }}.messages")',
          ),
      ),
    ).toThrow(
      new SchemaError(
        'Mutation.announce: @eventsPublish on room.*.messages: no type that its subscriptions return (Message) has a @key whose fields are all arguments of the mutation',
        'events',
      ),
    );
    expect(() =>
      bind(`
        type Subscription {
          changed(id: ID!): Change @eventsSubscribe(topic: "change.{{ args.id }}")
        }
        union Change = Post | Comment
        type Post @key(fields: "id") { id: ID! }
        type Comment @key(fields: "id") { id: ID! }
        ${mutation('touched(id: ID!): EventsPublishResult! @eventsPublish(topic: "change.{{ args.id }}")')}
      `),
    ).toThrow(/the arguments fit the @key of several types \(Post, Comment\)/);
  });

  it('stops start-up on a field that does not return EventsPublishResult', () => {
    expect(() =>
      bind(
        CHAT +
          mutation(
            'announce(roomID: ID!, id: ID!): Boolean @eventsPublish(topic: "room.{{ args.roomID }}.messages")',
          ),
      ),
    ).toThrow(
      new SchemaError(
        'Mutation.announce: an @eventsPublish field returns EventsPublishResult (type EventsPublishResult { success: Boolean! }), not Boolean',
        'events',
      ),
    );
  });

  it('stops start-up on an unknown provider and on a topic that reads claims', () => {
    expect(() =>
      bind(
        CHAT +
          mutation(
            'announce(roomID: ID!, id: ID!): EventsPublishResult! @eventsPublish(topic: "room.{{ args.roomID }}.messages", providerId: "kafka")',
          ),
      ),
    ).toThrow(
      /^\[events\] Mutation\.announce: @eventsPublish\(providerId: "kafka"\) names no provider in the config/,
    );
    expect(() =>
      bind(
        CHAT +
          mutation(
            'announce(id: ID!): EventsPublishResult! @eventsPublish(topic: "room.{{ claims.sub }}.messages")',
          ),
      ),
    ).toThrow(
      /Mutation\.announce: an @eventsPublish topic renders from the field's arguments only/,
    );
  });
});
