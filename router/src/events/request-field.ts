import type { GraphQLSchema } from 'graphql';
import { SchemaError } from '../errors.js';
import type { ProviderTraits } from '../providers/provider.js';
import type { EventsGraph } from '../schema/events-graph.js';
import { createEventValidator, type EventValidator } from './event.js';
import { apiField, compileArgumentsTopic, entityKeys, providerOf } from './event-field.js';
import type { TopicTemplate } from './topic.js';

/** A `Query` field bound to a broker subject: each call sends a request, the reply is an event. */
export interface RequestField {
  readonly name: string;
  /** The id of the provider that carries its subject. */
  readonly provider: string;
  readonly topic: TopicTemplate;
  /** Checks the reply as a subscription checks an event: an entity key of the field's type. */
  readonly validate: EventValidator;
}

/**
 * Binds each `@eventsRequest` field: its provider must exist and answer requests (NATS),
 * it must return an entity with a `@key` in the events graph (the reply is its key), and
 * its topic must render from its arguments (not from claims, which a query's fetch does not
 * carry).
 */
export function bindRequestFields(
  graph: EventsGraph,
  apiSchema: GraphQLSchema,
  eventsGraphName: string,
  providers: ReadonlyMap<string, ProviderTraits>,
): ReadonlyMap<string, RequestField> {
  const fields = apiSchema.getQueryType()?.getFields() ?? {};
  const bound = new Map<string, RequestField>();
  for (const [name, { topic: template, providerId }] of graph.requests) {
    const where = `Query.${name}`;
    const field = apiField(fields, name, where, eventsGraphName);
    const provider = providerOf(where, 'eventsRequest', providerId, providers, eventsGraphName);
    if (!provider.capabilities.request) {
      throw new SchemaError(
        `${where}: @eventsRequest is not supported by provider "${providerId}" (${provider.kind} has no request/reply); use a NATS provider`,
        eventsGraphName,
      );
    }
    const keys = entityKeys(field, where, graph, apiSchema, eventsGraphName);
    const topic = compileArgumentsTopic(
      where,
      'eventsRequest',
      template,
      field,
      provider,
      eventsGraphName,
    );
    bound.set(name, {
      name,
      provider: providerId,
      topic,
      validate: createEventValidator(name, keys, apiSchema),
    });
  }
  return bound;
}
