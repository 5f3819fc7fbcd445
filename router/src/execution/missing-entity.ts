import type { GraphQLDataSource } from '@apollo/gateway';
import type { EventContext } from './data-sources.js';

/**
 * While an event is resolved, notes each subgraph that answered the event's own entity
 * with `null`: federation leaves that silent (the key and null fields), but for an event it
 * is a publisher's mistake or a deletion race, and the subscriber should see it.
 */
export function noticeMissingEventEntity(
  subgraph: string,
  source: GraphQLDataSource,
): GraphQLDataSource {
  return {
    async process(options) {
      const response = await source.process(options);
      const context = options.context as Partial<EventContext>;
      const representations: unknown = options.request.variables?.['representations'];
      const entities: unknown = response.data?.['_entities'];
      if (!context.event || !context.missing) return response;
      if (!Array.isArray(representations) || !Array.isArray(entities)) return response;
      const failed = new Set(response.errors?.map((error) => error.path?.[1]));
      representations.forEach((representation: unknown, i) => {
        if (entities[i] === null && !failed.has(i) && isEvent(representation, context.event!)) {
          context.missing!.push(subgraph);
        }
      });
      return response;
    },
  };
}

/** Whether a representation is the event's entity: the same type and key values. */
function isEvent(representation: unknown, event: Record<string, unknown>): boolean {
  if (typeof representation !== 'object' || representation === null) return false;
  return Object.entries(representation).every(
    ([field, value]) => JSON.stringify(value) === JSON.stringify(event[field]),
  );
}
