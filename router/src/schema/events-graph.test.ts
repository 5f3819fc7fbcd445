import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema, graphqlSync, parse, printSchema } from 'graphql';
import { composeServices } from '@apollo/composition';
import { composeServices as composeWithHive } from '@theguild/federation-composition';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import {
  loadEventsGraph,
  readEventsGraphSdl,
  readSupergraphEventsGraph,
  type EventsGraph,
} from './events-graph.js';
import { EVENTS_SPEC_URL } from './events-spec.js';
import { loadSupergraph, type LoadedSupergraph } from './supergraph.js';

const schemas = join(import.meta.dirname, '../../../schemas');
const sdlOf = (name: string): string => readFileSync(join(schemas, `${name}.graphql`), 'utf8');
const subgraphs = ['message', 'user', 'scrape-job'].map((name) => ({
  name,
  url: `http://127.0.0.1:1/${name}`,
  typeDefs: parse(sdlOf(name)),
}));

/** Composes `events` (SDL) with the example subgraphs, with Apollo's composer or Hive's. */
function compose(events: string, composer: 'apollo' | 'hive' = 'apollo'): LoadedSupergraph {
  const services = [{ name: 'events', url: '', typeDefs: parse(events) }, ...subgraphs];
  const result = composer === 'apollo' ? composeServices(services) : composeWithHive(services);
  if (result.errors?.length) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return loadSupergraph(result.supergraphSdl!, 'events');
}

/** The bindings of schemas/events.graphql as they were before it had a filtered field. */
const coreBindings: EventsGraph = {
  bindings: new Map([
    [
      'messageAdded',
      {
        topic: 'room.{{ args.roomID }}.messages',
        stream: 'chat',
        initial: 'NONE' as const,
        providerId: 'default',
      },
    ],
    [
      'scrapeJobState',
      {
        topic: 'scrapeJob.{{ args.id }}.state',
        stream: 'scrape_jobs',
        initial: 'LAST' as const,
        providerId: 'default',
      },
    ],
    [
      'viewerUpdated',
      {
        topic: 'user.{{ claims.sub }}.updated',
        stream: undefined,
        initial: 'NONE' as const,
        providerId: 'default',
      },
    ],
  ]),
  filters: new Map(),
  publishes: new Map([
    ['announceMessage', { topic: 'room.{{ args.roomID }}.messages', providerId: 'default' }],
  ]),
  requests: new Map(),
  keys: new Map([
    ['Message', ['id']],
    ['ScrapeJobState', ['id']],
    ['User', ['id']],
  ]),
};

const exampleBindings: EventsGraph = {
  ...coreBindings,
  bindings: new Map([
    ...coreBindings.bindings,
    [
      'messageAddedBy',
      {
        topic: 'room.{{ args.roomID }}.messages',
        stream: 'chat',
        initial: 'NONE' as const,
        providerId: 'default',
      },
    ],
  ]),
  filters: new Map([
    ['messageAddedBy', { IN: { fieldPath: 'user.id', values: ['{{ args.userID }}'] } }],
  ]),
};
/** The core bindings less the mutation: what an events graph of subscriptions alone binds. */
const subscriptionBindings: EventsGraph = { ...coreBindings, publishes: new Map() };

const link = (imports: string, composed = '@eventsSubscribe') =>
  'extend schema\n' +
  '  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])\n' +
  `  @link(url: "${EVENTS_SPEC_URL}", import: ${imports})\n` +
  `  @composeDirective(name: "${composed}")\n`;
const entities =
  'type Message @key(fields: "id", resolvable: false) { id: ID! }\n' +
  'type ScrapeJobState @key(fields: "id", resolvable: false) { id: ID! }\n';

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

// How an events graph was written before our spec had a URL: composition drops the directive.
const oldEventsSdl =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@inaccessible"])\n' +
  'directive @eventsSubscribe(topic: String!, stream: String, initial: EventsInitial = NONE) on FIELD_DEFINITION\n' +
  'enum EventsInitial @inaccessible { NONE LAST }\n' +
  'type Subscription {\n' +
  '  messageAdded(roomID: ID!): Message @eventsSubscribe(topic: "room.{{ args.roomID }}.messages", stream: "chat")\n' +
  '  scrapeJobState(id: ID!): ScrapeJobState @eventsSubscribe(topic: "scrapeJob.{{ args.id }}.state", stream: "scrape_jobs", initial: LAST)\n' +
  '  viewerUpdated: User @eventsSubscribe(topic: "user.{{ claims.sub }}.updated")\n' +
  '}\n' +
  entities +
  'type User @key(fields: "id", resolvable: false) { id: ID! }\n';
/** The example's subscription fields and entities, without its publishing mutation. */
const exampleFields =
  'directive @eventsSubscribe(topic: String!, stream: String, initial: events__Initial = NONE) on FIELD_DEFINITION\n' +
  'enum events__Initial { NONE LAST }\n' +
  sdlOf('events').slice(
    sdlOf('events').indexOf('directive @eventsFilter'),
    sdlOf('events').indexOf('directive @eventsPublish'),
  ) +
  sdlOf('events').slice(
    sdlOf('events').indexOf('type Subscription'),
    sdlOf('events').indexOf('type Mutation'),
  ) +
  sdlOf('events').slice(sdlOf('events').indexOf('type Message @key'));

describe('readEventsGraphSdl', () => {
  it('reads schemas/events.graphql as it reads the supergraph', () => {
    expect(readEventsGraphSdl(parse(sdlOf('events')), 'events')).toEqual(exampleBindings);
  });

  it('reads an events graph SDL written before the spec had a URL', () => {
    expect(readEventsGraphSdl(parse(oldEventsSdl), 'events')).toEqual(subscriptionBindings);
  });

  const filtered = (directives: string) =>
    link('["@eventsSubscribe", "@eventsFilter"]') +
    exampleFields.slice(0, exampleFields.indexOf('type Subscription')) +
    `type Subscription { messageAdded(roomID: ID!): Message ${directives} }\n` +
    entities;

  it('refuses @eventsFilter on a field without @eventsSubscribe, naming it', () => {
    const sdl = filtered('@eventsFilter(condition: { IN: { fieldPath: "id", values: ["1"] } })');
    expect(() => readEventsGraphSdl(parse(sdl), 'events')).toThrow(
      '[events] Subscription.messageAdded: @eventsFilter needs @eventsSubscribe on the field',
    );
  });

  it('refuses a condition with two operators in one object, naming the field', () => {
    const sdl = filtered(
      '@eventsSubscribe(topic: "r.{{ args.roomID }}") ' +
        '@eventsFilter(condition: { IN: { fieldPath: "id", values: ["1"] }, NOT: { IN: { fieldPath: "id", values: ["2"] } } })',
    );
    const composed = sdl.replace(
      '@composeDirective(name: "@eventsSubscribe")',
      '@composeDirective(name: "@eventsSubscribe") @composeDirective(name: "@eventsFilter")',
    );
    expect(() => readSupergraphEventsGraph(compose(composed).supergraph, 'events')).toThrow(
      '[events] Subscription.messageAdded: @eventsFilter: condition: must have exactly one of IN, AND, OR, NOT, not IN and NOT',
    );
  });

  it.each(['apollo', 'hive'] as const)(
    'refuses a supergraph %s composed without @composeDirective(name: "@eventsFilter")',
    (composer) => {
      const events = sdlOf('events').replace('  @composeDirective(name: "@eventsFilter")\n', '');
      expect(() =>
        readSupergraphEventsGraph(compose(events, composer).supergraph, 'events'),
      ).toThrow(
        '[events] defines @eventsFilter, but the supergraph does not carry it: add @composeDirective(name: "@eventsFilter")',
      );
    },
  );

  it('refuses an events graph without bindings', () => {
    expect(() => readEventsGraphSdl(parse(entities), 'events')).toThrow(
      '[events] no Subscription field has @eventsSubscribe(topic: …)',
    );
  });
});

describe('loadEventsGraph', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edfs-events-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const oldFile = join(dir, 'events.graphql');
  writeFileSync(oldFile, oldEventsSdl);

  const logged: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logged.push(JSON.parse(line) as never) },
  );

  it('reads the supergraph and leaves events.schema unread when the supergraph carries them', () => {
    const schema = compose(sdlOf('events'));
    const missing = join(dir, 'missing.graphql');
    expect(loadEventsGraph(schema, { name: 'events', schema: missing }, logger)).toEqual(
      exampleBindings,
    );
  });

  it('falls back to events.schema for a supergraph without our @link, and says how to fix it', () => {
    logged.length = 0;
    const schema = compose(oldEventsSdl);
    expect(loadEventsGraph(schema, { name: 'events', schema: oldFile }, logger)).toEqual(
      subscriptionBindings,
    );
    expect(logged).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining(
          `no @link to ${EVENTS_SPEC_URL}): reading them from events.schema`,
        ),
      }),
    ]);
  });

  it('refuses a supergraph without our @link and no events.schema, naming the fix', () => {
    const schema = compose(oldEventsSdl);
    const load = () => loadEventsGraph(schema, { name: 'events' }, logger);
    expect(load).toThrow(SchemaError);
    expect(load).toThrow(
      `[events] the supergraph does not carry the event bindings: its events graph was composed ` +
        `without @link(url: "${EVENTS_SPEC_URL}"). Add \`extend schema @link(url: "${EVENTS_SPEC_URL}", ` +
        `import: ["@eventsSubscribe"]) @composeDirective(name: "@eventsSubscribe")\` to the events graph SDL`,
    );
  });

  it('serves a supergraph without an events graph as a plain gateway', () => {
    logged.length = 0;
    const result = composeServices(subgraphs);
    const schema = loadSupergraph(result.supergraphSdl!, 'events');
    expect(loadEventsGraph(schema, { name: 'events' }, logger)).toBeUndefined();
    expect(logged).toEqual([]);
    expect(loadEventsGraph(schema, { name: 'events', schema: oldFile }, logger)).toBeUndefined();
    expect(logged).toEqual([expect.objectContaining({ level: 40 })]);
  });
});
