import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLFormattedError } from 'graphql';
import { forwardedKey } from '../auth/forwarded-headers.js';
import type { FetchContext } from './data-sources.js';

export interface EntityBatcherOptions {
  /**
   * How long the first entity fetch of a batch waits for others to join. 0 still joins
   * every fetch made in the same turn of the event loop, and every fetch made while the
   * previous batch for the same query is in flight. @default 0
   */
  windowMs?: number;
  /**
   * Most representations sent in one request, so a subgraph that falls behind is not sent
   * everything that queued meanwhile at once. Fetches wait their turn, in order; a fetch
   * larger than this is sent alone rather than split. A positive integer. @default 1000
   */
  maxRepresentations?: number | undefined;
}

interface Member {
  options: GraphQLDataSourceProcessOptions;
  representations: readonly unknown[];
  resolve(response: GatewayGraphQLResponse): void;
  reject(error: unknown): void;
}

interface Lane {
  waiting: Member[];
  scheduled: boolean;
  inFlight: boolean;
}

/**
 * Merges concurrent `_entities` fetches with the same query (and the same variables but
 * `representations`, and the same forwarded headers: one caller's headers never carry
 * another's fetch) into one subgraph request, and splits the answer back. This is how
 * events that arrive while a resolution is in flight share one request per subgraph,
 * without touching Apollo's executor or its result shaping.
 */
export function batchEntityFetches(
  source: GraphQLDataSource,
  { windowMs = 0, maxRepresentations = 1000 }: EntityBatcherOptions = {},
): GraphQLDataSource {
  if (!Number.isInteger(maxRepresentations) || maxRepresentations < 1) {
    throw new RangeError(
      `maxRepresentations must be a positive integer, not ${maxRepresentations}`,
    );
  }
  const lanes = new Map<string, Lane>();

  const flush = (key: string, lane: Lane): void => {
    lane.scheduled = false;
    const batch = takeBatch(lane.waiting, maxRepresentations);
    if (batch.length === 0) {
      lanes.delete(key);
      return;
    }
    lane.inFlight = true;
    send(source, batch).finally(() => {
      lane.inFlight = false;
      if (lane.waiting.length > 0) schedule(key, lane);
      else lanes.delete(key);
    });
  };
  const schedule = (key: string, lane: Lane): void => {
    if (lane.scheduled || lane.inFlight) return;
    lane.scheduled = true;
    if (windowMs > 0) setTimeout(() => flush(key, lane), windowMs);
    else setImmediate(() => flush(key, lane));
  };

  return {
    process(options) {
      const { representations, ...rest } = options.request.variables ?? {};
      if (!Array.isArray(representations)) return source.process(options);
      const headers = (options.context as Partial<FetchContext> | undefined)?.headers ?? {};
      const key = `${forwardedKey(headers)}\u0000${JSON.stringify(rest)}\u0000${options.request.query ?? ''}`;
      let lane = lanes.get(key);
      if (!lane) {
        lane = { waiting: [], scheduled: false, inFlight: false };
        lanes.set(key, lane);
      }
      const joined = lane;
      return new Promise((resolve, reject) => {
        joined.waiting.push({ options, representations, resolve, reject });
        schedule(key, joined);
      });
    },
  };
}

/**
 * Removes from the front of the queue the fetches that fit in one request: at least one,
 * so a fetch larger than the bound goes alone, and never one that jumps the queue.
 */
function takeBatch(waiting: Member[], maxRepresentations: number): Member[] {
  let count = 0;
  let total = 0;
  for (const member of waiting) {
    total += member.representations.length;
    if (count > 0 && total > maxRepresentations) break;
    count++;
  }
  return waiting.splice(0, count);
}

async function send(source: GraphQLDataSource, batch: Member[]): Promise<void> {
  const first = batch[0]!;
  const representations =
    batch.length === 1 ? first.representations : batch.flatMap((m) => m.representations);
  const options =
    batch.length === 1
      ? first.options
      : ({
          ...first.options,
          request: {
            ...first.options.request,
            variables: { ...first.options.request.variables, representations },
          },
        } as GraphQLDataSourceProcessOptions);
  let response: GatewayGraphQLResponse;
  try {
    response = await source.process(options);
  } catch (error) {
    for (const member of batch) member.reject(error);
    return;
  }
  const problem = entityCountProblem(response, representations.length);
  if (problem !== undefined) {
    for (const member of batch) member.resolve(invalidResponse(response, problem));
    return;
  }
  if (batch.length === 1) {
    first.resolve(response);
    return;
  }
  const entities: unknown = response.data?.['_entities'];
  let offset = 0;
  for (const member of batch) {
    const start = offset;
    offset += member.representations.length;
    // Checked above: with data present, `_entities` has one entity per representation.
    const data = Array.isArray(entities)
      ? { ...response.data, _entities: entities.slice(start, offset) }
      : null;
    const errors = response.errors?.flatMap((error: GraphQLFormattedError) =>
      errorFor(error, start, offset),
    );
    const { errors: _all, ...shared } = response;
    member.resolve(errors?.length ? { ...shared, data, errors } : { ...shared, data });
  }
}

/**
 * Why the answer's `_entities` cannot be split by offset, if it cannot: splitting a list
 * of the wrong length would hand each fetch after the gap another fetch's entities.
 */
function entityCountProblem(
  response: GatewayGraphQLResponse,
  representations: number,
): string | undefined {
  // Errors and no data: nothing to split, and Apollo's executor stops at the errors.
  if (response.data == null) return undefined;
  const entities: unknown = response.data['_entities'];
  if (!Array.isArray(entities)) {
    return `The subgraph returned no _entities list for ${representations} representations.`;
  }
  if (entities.length !== representations) {
    return `The subgraph returned ${entities.length} entities for ${representations} representations.`;
  }
  return undefined;
}

/**
 * A failed entities fetch as Apollo's executor takes it: `data: null` makes it record the
 * errors and leave those entities' fields null, rather than throw on a bad `_entities`.
 */
function invalidResponse(
  response: GatewayGraphQLResponse,
  message: string,
): GatewayGraphQLResponse {
  const invalid: GraphQLFormattedError = {
    message,
    extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
  };
  // An error about `_entities[i]` cannot be placed when the entities cannot; it goes nowhere.
  const shared = (response.errors ?? []).filter((error) => entityIndex(error) === undefined);
  return { data: null, errors: [invalid, ...shared] };
}

/** An error about `_entities[i]` belongs to the member whose slice holds `i`, renumbered. */
function errorFor(
  error: GraphQLFormattedError,
  start: number,
  end: number,
): GraphQLFormattedError[] {
  const index = entityIndex(error);
  if (index === undefined) return [error];
  if (index < start || index >= end) return [];
  const [, , ...rest] = error.path ?? [];
  return [{ ...error, path: ['_entities', index - start, ...rest] }];
}

/** The `i` of an error about `_entities[i]`. */
function entityIndex(error: GraphQLFormattedError): number | undefined {
  const [root, index] = error.path ?? [];
  return root === '_entities' && typeof index === 'number' ? index : undefined;
}
