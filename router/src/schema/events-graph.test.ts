import { buildSchema, graphqlSync, parse, printSchema } from 'graphql';
import { composeServices } from '@apollo/composition';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { readEventsGraphSdl, readSupergraphEventsGraph } from './events-graph.js';
import {
  compose,
  entities,
  exampleBindings,
  exampleFields,
  link,
  oldEventsSdl,
  sdlOf,
  subgraphs,
} from './events-graph-fixture.js';
import { EVENTS_SPEC_URL } from './events-spec.js';
import { loadSupergraph } from './supergraph.js';

describe('readSupergraphEventsGraph', () => {
  it.each(['apollo', 'hive'] as const)(
    'reads the bindings and keys of schemas/events.graphql from a supergraph %s composed',
    (composer) => {
      const { supergraph } = compose(sdlOf('events'), composer);
      expect(readSupergraphEventsGraph(supergraph, 'events')).toEqual(exampleBindings);
    },
  );

  it.each(['apollo', 'hive'] as const)(
    'leaves the directive and its enum out of the API schema %s composed',
    (composer) => {
      const { apiGraphQLSchema } = compose(sdlOf('events'), composer);
      const printed = printSchema(apiGraphQLSchema);
      expect(printed).not.toMatch(/eventsSubscribe|events__|Initial/);
      // What a client sees by introspection: no directive of ours, no type of ours.
      const { data } = graphqlSync({
        schema: apiGraphQLSchema,
        source: '{ __schema { directives { name } types { name } } }',
      }) as { data: { __schema: { directives: { name: string }[]; types: { name: string }[] } } };
      expect(data.__schema.directives.map((d) => d.name)).toEqual(
        buildSchema('scalar X')
          .getDirectives()
          .map((d) => d.name),
      );
      expect(data.__schema.types.map((t) => t.name)).not.toContainEqual(
        expect.stringMatching(/events__|Initial/),
      );
    },
  );

  it('reads the directive under the name the @link imports it as', () => {
    const events =
      link('[{ name: "@eventsSubscribe", as: "@bind" }]', '@bind') +
      'directive @bind(topic: String!) on FIELD_DEFINITION\n' +
      'type Subscription { messageAdded(roomID: ID!): Message @bind(topic: "r.{{ args.roomID }}") }\n' +
      entities;
    const { supergraph } = compose(events);
    expect(readSupergraphEventsGraph(supergraph, 'events')?.bindings).toEqual(
      new Map([
        ['messageAdded', { topic: 'r.{{ args.roomID }}', initial: 'NONE', providerId: 'default' }],
      ]),
    );
  });

  it('says the supergraph does not carry bindings when the events graph has no @link to our spec', () => {
    const { supergraph } = compose(oldEventsSdl);
    expect(readSupergraphEventsGraph(supergraph, 'events')).toBeUndefined();
  });

  it('refuses a version of the spec it does not read', () => {
    const events = link('["@eventsSubscribe"]').replace('/v1.0', '/v2.0') + exampleFields;
    const { supergraph } = compose(events);
    expect(() => readSupergraphEventsGraph(supergraph, 'events')).toThrow(
      `[events] links https://edfs.dev/events/v2.0, but this router reads ${EVENTS_SPEC_URL} (version 1.x)`,
    );
  });

  it('refuses "initial: LAST" without a stream, naming the field', () => {
    const events =
      link('["@eventsSubscribe"]') +
      'directive @eventsSubscribe(topic: String!, stream: String, initial: events__Initial = NONE) on FIELD_DEFINITION\n' +
      'enum events__Initial { NONE LAST }\n' +
      'type Subscription { messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "r", initial: LAST) }\n' +
      entities;
    expect(() => readSupergraphEventsGraph(compose(events).supergraph, 'events')).toThrow(
      '[events] Subscription.messageAdded: @eventsSubscribe: "initial: LAST" needs a "stream" to read the last event from',
    );
  });

  it('refuses an argument of the wrong type, naming it', () => {
    const events =
      link('["@eventsSubscribe"]') +
      'directive @eventsSubscribe(topic: String!, initial: String) on FIELD_DEFINITION\n' +
      'type Subscription { messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "r", initial: "FIRST") }\n' +
      entities;
    expect(() => readSupergraphEventsGraph(compose(events).supergraph, 'events')).toThrow(
      '[events] Subscription.messageAdded: @eventsSubscribe: "initial" must be NONE or LAST, not FIRST',
    );
  });

  it('reads @eventsPublish on Mutation and @eventsRequest on Query fields', () => {
    const events =
      link('["@eventsSubscribe", "@eventsFilter", "@eventsPublish", "@eventsRequest"]') +
      '  @composeDirective(name: "@eventsFilter")\n' +
      '  @composeDirective(name: "@eventsPublish") @composeDirective(name: "@eventsRequest")\n' +
      'directive @eventsPublish(topic: String!, providerId: String = "default") on FIELD_DEFINITION\n' +
      'directive @eventsRequest(topic: String!, providerId: String = "default") on FIELD_DEFINITION\n' +
      exampleFields +
      'type Mutation { announce(roomID: ID!, id: ID!): EventsPublishResult! @eventsPublish(topic: "room.{{ args.roomID }}.messages") }\n' +
      'type EventsPublishResult { success: Boolean! }\n' +
      'type Query { pinned(roomID: ID!): Message @eventsRequest(topic: "room.{{ args.roomID }}.pinned") }\n';
    const read = readSupergraphEventsGraph(compose(events).supergraph, 'events');
    expect(read?.publishes).toEqual(
      new Map([['announce', { topic: 'room.{{ args.roomID }}.messages', providerId: 'default' }]]),
    );
    expect(read?.requests).toEqual(
      new Map([['pinned', { topic: 'room.{{ args.roomID }}.pinned', providerId: 'default' }]]),
    );
  });

  it.each([
    [
      '@eventsPublish',
      'type Query { pinned(id: ID!): Message @eventsPublish(topic: "p") }',
      'Query.pinned: @eventsPublish belongs on a Mutation field',
    ],
    [
      '@eventsRequest',
      'type Mutation { go(id: ID!): Message @eventsRequest(topic: "p") }',
      'Mutation.go: @eventsRequest belongs on a Query field',
    ],
    [
      '@eventsSubscribe',
      'type Query { pinned(id: ID!): Message @eventsSubscribe(topic: "p") }',
      'Query.pinned: @eventsSubscribe belongs on a Subscription field',
    ],
  ])('refuses %s on the wrong root type, naming the field', (_, field, message) => {
    const events =
      'directive @eventsSubscribe(topic: String!) on FIELD_DEFINITION\n' +
      'directive @eventsPublish(topic: String!) on FIELD_DEFINITION\n' +
      'directive @eventsRequest(topic: String!) on FIELD_DEFINITION\n' +
      'type Subscription { messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "r") }\n' +
      field +
      '\n' +
      entities;
    expect(() => readEventsGraphSdl(parse(events), 'events')).toThrow(
      new SchemaError(message, 'events'),
    );
  });

  it('refuses a Query field of the events graph that nothing answers', () => {
    // Without @composeDirective the supergraph drops @eventsRequest: the field is unanswerable.
    const events =
      link('["@eventsSubscribe", "@eventsFilter", "@eventsRequest"]') +
      '  @composeDirective(name: "@eventsFilter")\n' +
      'directive @eventsRequest(topic: String!) on FIELD_DEFINITION\n' +
      exampleFields +
      'type Query { pinned(roomID: ID!): Message @eventsRequest(topic: "p.{{ args.roomID }}") }\n';
    expect(() => readSupergraphEventsGraph(compose(events).supergraph, 'events')).toThrow(
      new SchemaError(
        'Query.pinned is in the events graph but has no @eventsRequest: the events graph has no server to answer it (composed without @composeDirective(name: "@eventsRequest")?)',
        'events',
      ),
    );
  });

  it('refuses a binding on a Subscription field that another subgraph defines', () => {
    const other = {
      name: 'other',
      url: 'http://127.0.0.1:1/other',
      typeDefs: parse(
        link('["@eventsSubscribe"]') +
          'directive @eventsSubscribe(topic: String!) on FIELD_DEFINITION\n' +
          'type Subscription { ticks: Int @eventsSubscribe(topic: "ticks") }\n',
      ),
    };
    const result = composeServices([
      { name: 'events', url: '', typeDefs: parse(sdlOf('events-core')) },
      other,
      ...subgraphs,
    ]);
    expect(result.errors).toBeUndefined();
    const { supergraph } = loadSupergraph(result.supergraphSdl!, 'events');
    expect(() => readSupergraphEventsGraph(supergraph, 'events')).toThrow(
      '[events] Subscription.ticks has @eventsSubscribe but the events graph does not define it',
    );
  });
});
