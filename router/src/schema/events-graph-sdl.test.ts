import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { loadEventsGraph, readEventsGraphSdl, readSupergraphEventsGraph } from './events-graph.js';
import {
  compose,
  entities,
  exampleBindings,
  exampleFields,
  link,
  oldEventsSdl,
  sdlOf,
  subgraphs,
  subscriptionBindings,
} from './events-graph-fixture.js';
import { EVENTS_SPEC_URL } from './events-spec.js';
import { loadSupergraph } from './supergraph.js';

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
