/** What events-graph.test.ts and events-graph-sdl.test.ts share: the example graph, composed. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { composeServices as composeWithHive } from '@theguild/federation-composition';
import type { EventsGraph } from './events-graph.js';
import { EVENTS_SPEC_URL } from './events-spec.js';
import { loadSupergraph, type LoadedSupergraph } from './supergraph.js';

const schemas = join(import.meta.dirname, '../../../schemas');
export const sdlOf = (name: string): string =>
  readFileSync(join(schemas, `${name}.graphql`), 'utf8');
export const subgraphs = ['message', 'user', 'scrape-job'].map((name) => ({
  name,
  url: `http://127.0.0.1:1/${name}`,
  typeDefs: parse(sdlOf(name)),
}));

/** Composes `events` (SDL) with the example subgraphs, with Apollo's composer or Hive's. */
export function compose(events: string, composer: 'apollo' | 'hive' = 'apollo'): LoadedSupergraph {
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

export const exampleBindings: EventsGraph = {
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
export const subscriptionBindings: EventsGraph = { ...coreBindings, publishes: new Map() };

export const link = (imports: string, composed = '@eventsSubscribe') =>
  'extend schema\n' +
  '  @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@composeDirective"])\n' +
  `  @link(url: "${EVENTS_SPEC_URL}", import: ${imports})\n` +
  `  @composeDirective(name: "${composed}")\n`;
export const entities =
  'type Message @key(fields: "id", resolvable: false) { id: ID! }\n' +
  'type ScrapeJobState @key(fields: "id", resolvable: false) { id: ID! }\n';

// How an events graph was written before our spec had a URL: composition drops the directive.
export const oldEventsSdl =
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
export const exampleFields =
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
