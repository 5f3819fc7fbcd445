import {
  getNamedType,
  isAbstractType,
  isObjectType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { SchemaError } from '../errors.js';
import type { ProviderTraits } from '../providers/provider.js';
import type { EventsGraph } from '../schema/events-graph.js';
import { createEventValidator, type EventValidator } from './event.js';
import { compileFilter, type EventFilter } from './event-filter.js';
import { compileTopic, type TopicTemplate } from './topic.js';

/** A `Subscription` field bound to broker subjects, ready to subscribe and to check events. */
export interface EventField {
  readonly name: string;
  /** The id of the provider that carries its subjects. */
  readonly provider: string;
  readonly topic: TopicTemplate;
  readonly validate: EventValidator;
  /** The `@key` field sets of each type the field can return, from the events graph. */
  readonly keys: ReadonlyMap<string, readonly string[]>;
  /** The JetStream stream that stores the field's events; absent for core NATS. */
  readonly stream?: string;
  /** What a new subscriber gets first: nothing, or the latest stored event. */
  readonly initial: 'NONE' | 'LAST';
  /** Which events a subscriber gets, from `@eventsFilter`; absent: all of them. */
  readonly filter?: EventFilter;
}

/**
 * Binds each `@eventsSubscribe` field of the events graph to the API schema: its topic is
 * checked against the field's arguments, its events against the types it can return, and
 * the values clients put into its subjects against the syntax of its provider, one of
 * `providers` by id, which must also support what the directive asks for (a stream). Its
 * `@eventsFilter`, if any, is checked against the field's return type and arguments.
 */
export function bindEventFields(
  graph: EventsGraph,
  apiSchema: GraphQLSchema,
  eventsGraphName: string,
  providers: ReadonlyMap<string, ProviderTraits>,
): ReadonlyMap<string, EventField> {
  const fields = apiSchema.getSubscriptionType()?.getFields() ?? {};
  const bound = new Map<string, EventField>();
  for (const [name, { topic: template, stream, initial, providerId }] of graph.bindings) {
    const where = `Subscription.${name}`;
    const field = apiField(fields, name, where, eventsGraphName);
    const provider = providerOf(where, 'eventsSubscribe', providerId, providers, eventsGraphName);
    if (stream && !provider.capabilities.streams) {
      throw new SchemaError(
        `${where}: @eventsSubscribe(stream:) is not supported by provider "${providerId}" (${provider.kind} stores no messages); remove "stream" and "initial"`,
        eventsGraphName,
      );
    }
    const keysByType = entityKeys(field, where, graph, apiSchema, eventsGraphName);
    const topic = compileTopic(
      where,
      template,
      field.args.map((a) => a.name),
      provider.syntax,
    );
    const condition = graph.filters.get(name);
    const filter =
      condition &&
      compileFilter(
        field,
        condition,
        apiSchema,
        `Subscription.${name}: @eventsFilter`,
        eventsGraphName,
      );
    bound.set(name, {
      name,
      provider: providerId,
      topic,
      validate: createEventValidator(name, keysByType, apiSchema),
      keys: keysByType,
      initial,
      ...(stream ? { stream } : {}),
      ...(filter ? { filter } : {}),
    });
  }
  return bound;
}

/** The bound field in the API schema, which composition may have left out. */
export function apiField(
  fields: Readonly<Record<string, GraphQLField<unknown, unknown>>>,
  name: string,
  where: string,
  eventsGraphName: string,
): GraphQLField<unknown, unknown> {
  const field = fields[name];
  if (!field) throw new SchemaError(`${where} is not in the API schema`, eventsGraphName);
  return field;
}

/** The provider a directive names, which must be in the config. */
export function providerOf(
  where: string,
  directive: string,
  providerId: string,
  providers: ReadonlyMap<string, ProviderTraits>,
  eventsGraphName: string,
): ProviderTraits {
  const provider = providers.get(providerId);
  if (!provider) {
    throw new SchemaError(
      `${where}: @${directive}(providerId: "${providerId}") names no provider in the config (there are: ${[...providers.keys()].join(', ')})`,
      eventsGraphName,
    );
  }
  return provider;
}

/**
 * The `@key`s, in the events graph, of each concrete type `field` can return: an event is
 * one of them, so there must be at least one.
 */
export function entityKeys(
  field: GraphQLField<unknown, unknown>,
  where: string,
  graph: EventsGraph,
  apiSchema: GraphQLSchema,
  eventsGraphName: string,
): ReadonlyMap<string, readonly string[]> {
  const returned = getNamedType(field.type);
  const types = isAbstractType(returned)
    ? apiSchema.getPossibleTypes(returned)
    : isObjectType(returned)
      ? [returned]
      : [];
  const keysByType = new Map(
    types.flatMap((type) => {
      const keys = graph.keys.get(type.name);
      return keys ? [[type.name, keys] as const] : [];
    }),
  );
  if (keysByType.size === 0) {
    throw new SchemaError(
      `${where} must return an entity with a @key in the events graph`,
      eventsGraphName,
    );
  }
  return keysByType;
}

/**
 * Compiles the topic of an `@eventsPublish` or `@eventsRequest` field, which renders from
 * the field's arguments only: the fetch of a query or mutation does not carry the caller's
 * claims.
 */
export function compileArgumentsTopic(
  where: string,
  directive: string,
  template: string,
  field: GraphQLField<unknown, unknown>,
  provider: ProviderTraits,
  eventsGraphName: string,
): TopicTemplate {
  const topic = compileTopic(
    where,
    template,
    field.args.map((a) => a.name),
    provider.syntax,
  );
  if (topic.readsClaims) {
    throw new SchemaError(
      `${where}: an @${directive} topic renders from the field's arguments only, not claims`,
      eventsGraphName,
    );
  }
  return topic;
}
