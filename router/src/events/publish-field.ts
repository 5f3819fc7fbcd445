import {
  getNamedType,
  getNullableType,
  isObjectType,
  type GraphQLError,
  type GraphQLSchema,
} from 'graphql';
import { SchemaError } from '../errors.js';
import type { ProviderTraits } from '../providers/provider.js';
import type { EventsGraph } from '../schema/events-graph.js';
import { apiField, compileArgumentsTopic, providerOf, type EventField } from './event-field.js';
import { keyFields, type EntityEvent, type EventValidator } from './event.js';
import type { TopicTemplate } from './topic.js';

/** What an `@eventsPublish` mutation field returns. */
export const PUBLISH_RESULT_TYPE = 'EventsPublishResult';

/** The event one publish sends, from the mutation's arguments, or the error refusing them. */
export type PublishEvent = (args: Readonly<Record<string, unknown>>) => EntityEvent | GraphQLError;

/** A `Mutation` field bound to a broker subject: each call publishes one event on it. */
export interface PublishField {
  readonly name: string;
  /** The id of the provider that carries its subject. */
  readonly provider: string;
  readonly topic: TopicTemplate;
  readonly event: PublishEvent;
}

/**
 * Binds each `@eventsPublish` field: its provider must exist, its type be
 * `EventsPublishResult`, its topic render from its arguments (not from claims, which a
 * mutation's fetch does not carry), and its event follow the rule of `createPublishEvent`.
 */
export function bindPublishFields(
  graph: EventsGraph,
  apiSchema: GraphQLSchema,
  eventsGraphName: string,
  providers: ReadonlyMap<string, ProviderTraits>,
  subscriptions: ReadonlyMap<string, EventField>,
): ReadonlyMap<string, PublishField> {
  const fields = apiSchema.getMutationType()?.getFields() ?? {};
  const bound = new Map<string, PublishField>();
  for (const [name, { topic: template, providerId }] of graph.publishes) {
    const where = `Mutation.${name}`;
    const field = apiField(fields, name, where, eventsGraphName);
    const provider = providerOf(where, 'eventsPublish', providerId, providers, eventsGraphName);
    const returned = getNamedType(field.type);
    const result = isObjectType(returned) ? returned.getFields() : {};
    if (
      returned.name !== PUBLISH_RESULT_TYPE ||
      Object.keys(result).join() !== 'success' ||
      String(result['success']?.type) !== 'Boolean!'
    ) {
      throw new SchemaError(
        `${where}: an @eventsPublish field returns ${PUBLISH_RESULT_TYPE} (type ${PUBLISH_RESULT_TYPE} { success: Boolean! }), not ${String(getNullableType(field.type))}`,
        eventsGraphName,
      );
    }
    const topic = compileArgumentsTopic(
      where,
      'eventsPublish',
      template,
      field,
      provider,
      eventsGraphName,
    );
    const event = createPublishEvent(
      where,
      topic.pattern,
      field.args.map((a) => a.name),
      providerId,
      subscriptions.values(),
      eventsGraphName,
    );
    bound.set(name, { name, provider: providerId, topic, event });
  }
  return bound;
}

/**
 * The rule that makes a publish through the router send what `nats pub` would: the entity
 * key a subscriber of the same topic receives. The subscriptions on the same provider whose
 * topic has the same subjects (the same `pattern`, every value a wildcard: `room.*.messages`)
 * say which types the event can be; its `__typename` is the one of them that has a `@key`
 * whose fields are all arguments of the mutation, its key fields are the arguments of the
 * same name, and its other arguments only render the topic. A topic no subscription has,
 * or arguments that fit no type or several, stop start-up.
 *
 * @param where names the field in errors, e.g. `Mutation.announce`
 */
export function createPublishEvent(
  where: string,
  pattern: string,
  argumentNames: readonly string[],
  providerId: string,
  subscriptions: Iterable<EventField>,
  eventsGraphName: string,
): PublishEvent {
  const fail = (reason: string): never => {
    throw new SchemaError(`${where}: @eventsPublish ${reason}`, eventsGraphName);
  };
  const onTopic = [...subscriptions].filter(
    (field) => field.provider === providerId && field.topic.pattern === pattern,
  );
  if (onTopic.length === 0) {
    fail(
      `publishes on ${pattern}, which no @eventsSubscribe field of provider "${providerId}" reads: the event's type is what the subscription on its topic returns`,
    );
  }
  const fitting = new Map<string, EventValidator>();
  for (const field of onTopic) {
    for (const [type, keys] of field.keys) {
      const fits = keys.some((key) => keyFields(key).every((f) => argumentNames.includes(f)));
      if (fits && !fitting.has(type)) fitting.set(type, field.validate);
    }
  }
  const types = [...new Set(onTopic.flatMap((field) => [...field.keys.keys()]))].join(', ');
  if (fitting.size !== 1) {
    fail(
      fitting.size === 0
        ? `on ${pattern}: no type that its subscriptions return (${types}) has a @key whose fields are all arguments of the mutation`
        : `on ${pattern}: the arguments fit the @key of several types (${[...fitting.keys()].join(', ')}); keep the key arguments of one`,
    );
  }
  const [[typename, validate]] = [...fitting] as [[string, EventValidator]];
  return (args) => {
    const checked = validate({ ...args, __typename: typename });
    if (checked instanceof Error) return checked;
    // `__typename` first, as a publisher writes it by hand.
    const { __typename, ...key } = checked;
    return { __typename, ...key };
  };
}
