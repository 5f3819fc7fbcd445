import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createRouter, type Router, type RouterConfig } from '@edfs/router';
import type { TestStack } from './stack.js';

/** Another router over the stack's NATS and subgraphs, its config changed by `edit`. */
export function startRouterWith(
  stack: TestStack,
  edit: (config: RouterConfig) => void,
): Promise<Router> {
  const config = structuredClone(stack.routerConfig);
  edit(config);
  return createRouter({ config, logger: pino({ level: 'silent' }) });
}

/** A router whose user subgraph cannot be reached: its fields fail, the rest resolves. */
export async function startRouterWithUserDown(stack: TestStack): Promise<Router> {
  const port = await closedPort();
  return startRouterWith(stack, (config) => {
    config.subgraphs['user']!.url = `http://127.0.0.1:${port}/graphql`;
  });
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The example events graph with every field on core NATS (no streams). */
export const coreEventsSchema = fileURLToPath(
  new URL('../../schemas/events-core.graphql', import.meta.url),
);

/** A config change for `startTestStack({ configure })`: every field on core NATS. */
export function coreNats(config: RouterConfig): void {
  config.events.schema = coreEventsSchema;
  config.nats.streams = [];
}

/**
 * A config change: the events graph is `sdl`, written to `events.graphql` in `dir` when the
 * router starts, with every field on core NATS.
 */
export function eventsSdlIn(dir: () => string, sdl: string): (config: RouterConfig) => void {
  return (config) => {
    const schema = join(dir(), 'events.graphql');
    writeFileSync(schema, sdl);
    config.events.schema = schema;
    config.nats.streams = [];
  };
}

/**
 * `messageAdded` and `announce` on provider `bus`; `scrapeJobState` stays on the default
 * NATS. The directives are the SDL's own: the router reads the bindings from it.
 */
export const BUS_EVENTS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

directive @eventsSubscribe(topic: String!, providerId: String = "default") on FIELD_DEFINITION
directive @eventsPublish(topic: String!, providerId: String = "default") on FIELD_DEFINITION

type Subscription {
  messageAdded(roomID: ID!): Message
    @eventsSubscribe(topic: "room.{{ args.roomID }}.messages", providerId: "bus")
  scrapeJobState(id: ID!): ScrapeJobState @eventsSubscribe(topic: "scrapeJob.{{ args.id }}.state")
}

type Mutation {
  announce(roomID: ID!, id: ID!): EventsPublishResult!
    @eventsPublish(topic: "room.{{ args.roomID }}.messages", providerId: "bus")
}

type EventsPublishResult {
  success: Boolean!
}

type Message @key(fields: "id", resolvable: false) {
  id: ID!
}

type ScrapeJobState @key(fields: "id", resolvable: false) {
  id: ID!
}
`;
