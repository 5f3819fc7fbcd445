import type { GraphQLDataSource } from '@apollo/gateway';
import {
  defaultFieldResolver,
  execute,
  GraphQLError,
  parse,
  responsePathAsArray,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { BrokerTimeoutError, NoRespondersError } from '../errors.js';
import { parseEventPayload, type EntityEvent } from '../events/event.js';
import type { PublishField } from '../events/publish-field.js';
import type { RequestField } from '../events/request-field.js';
import type { Logger } from '../logger.js';
import type { EventProvider } from '../providers/provider.js';
import type { EventContext } from './data-sources.js';
import { raceDeadline } from './deadline.js';
import { eventFetchData } from './event-selection.js';

export interface EventsSourceOptions {
  /**
   * The events graph's own schema, which the planner writes its fetches against; absent
   * when it has no publish or request field, and so is only ever asked for events.
   */
  schema: GraphQLSchema | undefined;
  /** Its `Mutation` fields, each publishing one event. */
  publishes: ReadonlyMap<string, PublishField>;
  /** Its `Query` fields, each a request whose reply is an event. */
  requests: ReadonlyMap<string, RequestField>;
  /** The providers by id, connected (filled before the router takes requests). */
  providers: ReadonlyMap<string, EventProvider>;
  /** How long a publish waits for the broker to take the event. */
  publishTimeoutMs: number;
  /** How long a request waits for its reply. */
  requestTimeoutMs: number;
  logger: Logger;
}

/**
 * The events graph as a data source. It has no server: while an event is resolved, its
 * fetch answers with the event; a query's or mutation's fetch of its `@eventsRequest` and
 * `@eventsPublish` fields is run here, against its own schema, each root field a request
 * or a publish on its provider. The executor then resolves a request's reply (an entity
 * key) through the subgraphs, as it does an event.
 */
export function createEventsSource(options: EventsSourceOptions): GraphQLDataSource {
  const { schema, publishes, requests, providers, logger } = options;
  const mutation = schema?.getMutationType();
  const query = schema?.getQueryType();

  const publish = async (
    field: PublishField,
    args: Record<string, unknown>,
    errors: GraphQLError[],
    path: readonly (string | number)[],
  ): Promise<{ success: boolean }> => {
    const refuse = (error: GraphQLError): { success: false } => {
      errors.push(new GraphQLError(error.message, { path, extensions: error.extensions }));
      return { success: false };
    };
    const subject = field.topic.render({ args });
    if (subject instanceof GraphQLError) return refuse(subject);
    const event = field.event(args);
    if (event instanceof GraphQLError) return refuse(event);
    const provider = providers.get(field.provider)!;
    const { publishTimeoutMs } = options;
    try {
      await raceDeadline(
        () => provider.publish(subject, encode(event)),
        publishTimeoutMs,
        () => new BrokerTimeoutError(provider.name, subject, publishTimeoutMs),
      );
      return { success: true };
    } catch (error) {
      logger.warn({ err: error, field: `Mutation.${field.name}`, subject }, 'publish failed');
      const timedOut = error instanceof BrokerTimeoutError;
      return refuse(
        new GraphQLError(
          timedOut
            ? `The event was not published: provider "${field.provider}" did not take it within ${publishTimeoutMs} ms.`
            : `The event was not published: provider "${field.provider}" is unavailable or refused it.`,
          { extensions: { code: 'EVENT_PUBLISH_FAILED', providerId: field.provider } },
        ),
      );
    }
  };

  const request = async (
    field: RequestField,
    args: Record<string, unknown>,
  ): Promise<EntityEvent> => {
    const subject = field.topic.render({ args });
    if (subject instanceof GraphQLError) throw subject;
    const provider = providers.get(field.provider)!;
    let reply: Uint8Array;
    try {
      reply = await provider.request(subject, encode(args), options.requestTimeoutMs);
    } catch (error) {
      throw requestError(field, error, options.requestTimeoutMs, logger, subject);
    }
    const event = field.validate(parseEventPayload(reply));
    if (event instanceof GraphQLError) throw event;
    return event;
  };

  const fieldResolver: GraphQLFieldResolver<unknown, GraphQLError[]> = (
    source,
    args,
    errors,
    info,
  ) => {
    const publishing = info.parentType === mutation ? publishes.get(info.fieldName) : undefined;
    if (publishing) return publish(publishing, args, errors, responsePathAsArray(info.path));
    const requesting = info.parentType === query ? requests.get(info.fieldName) : undefined;
    if (requesting) return request(requesting, args);
    return defaultFieldResolver(source, args, errors, info);
  };

  return {
    async process({ request: fetch, context }) {
      if ('event' in context) {
        const { event } = context as EventContext;
        return { data: eventFetchData(fetch.query ?? '', event) };
      }
      if (!schema) throw new Error('the events graph has no query or mutation field to answer');
      const errors: GraphQLError[] = [];
      const result = await execute({
        schema,
        document: parse(fetch.query ?? ''),
        variableValues: fetch.variables ?? {},
        contextValue: errors,
        fieldResolver,
      });
      const all = [...(result.errors ?? []), ...errors];
      return {
        data: result.data ?? null,
        ...(all.length > 0 ? { errors: all.map((error) => error.toJSON()) } : {}),
      };
    },
  };
}

const encoder = new TextEncoder();

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** What a client is told of a request that got no usable answer from the broker. */
function requestError(
  field: RequestField,
  error: unknown,
  timeoutMs: number,
  logger: Logger,
  subject: string,
): GraphQLError {
  if (error instanceof NoRespondersError) {
    return new GraphQLError(`Nobody answers requests on "${subject}".`, {
      extensions: { code: 'EVENT_REQUEST_NO_RESPONDERS' },
    });
  }
  if (error instanceof BrokerTimeoutError) {
    return new GraphQLError(`No reply on "${subject}" within ${timeoutMs} ms.`, {
      extensions: { code: 'EVENT_REQUEST_TIMEOUT' },
    });
  }
  logger.warn({ err: error, field: `Query.${field.name}`, subject }, 'request failed');
  return new GraphQLError(
    `The request was not sent: provider "${field.provider}" is unavailable or refused it.`,
    { extensions: { code: 'EVENT_REQUEST_FAILED', providerId: field.provider } },
  );
}
