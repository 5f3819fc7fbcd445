import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLFormattedError } from 'graphql';
import { forwardedKey } from '../auth/forwarded-headers.js';
import type { FetchContext } from './data-sources.js';
import { mergeEntityQueries } from './entity-query-merge.js';

export interface EntityBatcherOptions {
  /**
   * How long the first entity fetch of a batch waits for others to join. 0 still joins
   * every fetch made in the same turn of the event loop, and every fetch made while the
   * previous batch to the same subgraph is in flight. @default 0
   */
  windowMs?: number;
  /**
   * Most representations sent in one request, so a subgraph that falls behind is not sent
   * everything that queued meanwhile at once. Fetches wait their turn, in order; a fetch
   * larger than this is sent alone rather than split. A positive integer. @default 1000
   */
  maxRepresentations?: number | undefined;
  /**
   * How long a fetch waits for the request in flight before it goes in one of its own:
   * merging is for requests that answer soon, and a slow one (another caller's, a subgraph
   * slow on some entity) must not hold everyone else's fetches, nor spend their deadline.
   * One such request at a time (MAX_IN_FLIGHT). @default 100
   */
  patienceMs?: number;
  /**
   * Told of every request that merges several fetches, their options in order; the
   * first one's are the ones sent (tracing links the others to it). @default nothing
   */
  merged?: ((members: readonly GraphQLDataSourceProcessOptions[]) => void) | undefined;
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
  /** Requests sent and not answered yet: one, or two once the fetches after it lost patience. */
  inFlight: number;
  /** Sends what waits if the requests in flight have not answered by then. */
  patience: NodeJS.Timeout | undefined;
}

/**
 * Merges concurrent `_entities` fetches to one subgraph with the same forwarded headers
 * (one caller's headers never carry another's fetch) into one subgraph request, and splits
 * the answer back. Fetches with the same query (and variables but `representations`) share
 * its `_entities` field; different queries each get their own aliased `_entities` field in
 * one document (see entity-query-merge.ts). This is how events that arrive while a
 * resolution is in flight, and the different operations resolving one event, share one
 * request per subgraph, without touching Apollo's executor or its result shaping.
 */
export function batchEntityFetches(
  source: GraphQLDataSource,
  { windowMs = 0, maxRepresentations = 1000, patienceMs = 100, merged }: EntityBatcherOptions = {},
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
      if (lane.inFlight === 0) lanes.delete(key);
      return;
    }
    lane.inFlight++;
    if (batch.length > 1) merged?.(batch.map((member) => member.options));
    send(source, batch).finally(() => {
      lane.inFlight--;
      if (lane.inFlight === 0) {
        clearTimeout(lane.patience);
        lane.patience = undefined;
      }
      if (lane.waiting.length > 0) schedule(key, lane);
      else if (lane.inFlight === 0) lanes.delete(key);
    });
  };
  const schedule = (key: string, lane: Lane): void => {
    if (lane.scheduled) return;
    if (lane.inFlight > 0) {
      // A second request only: a subgraph that is slow for everyone is not sent more.
      if (lane.inFlight >= MAX_IN_FLIGHT) return;
      lane.patience ??= setTimeout(() => {
        lane.patience = undefined;
        if (!lane.scheduled && lane.waiting.length > 0 && lane.inFlight < MAX_IN_FLIGHT) {
          flush(key, lane);
        }
      }, patienceMs);
      return;
    }
    lane.scheduled = true;
    if (windowMs > 0) setTimeout(() => flush(key, lane), windowMs);
    else setImmediate(() => flush(key, lane));
  };

  return {
    process(options) {
      const representations: unknown = options.request.variables?.['representations'];
      if (!Array.isArray(representations)) return source.process(options);
      const headers = (options.context as Partial<FetchContext> | undefined)?.headers ?? {};
      const key = forwardedKey(headers);
      let lane = lanes.get(key);
      if (!lane) {
        lane = { waiting: [], scheduled: false, inFlight: 0, patience: undefined };
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
 * Requests one lane has in flight at most: the one fetches wait for, and one for those that
 * lost patience with it. The fetches after those wait for an answer.
 */
const MAX_IN_FLIGHT = 2;

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

/** The fetches of one batch that share a query and its variables but `representations`. */
interface Part {
  readonly query: string;
  readonly members: Member[];
}

async function send(source: GraphQLDataSource, batch: Member[]): Promise<void> {
  const parts = partsOf(batch);
  if (parts.length === 1) return sendPart(source, parts[0]!.members);
  const merged = mergeEntityQueries(parts.map((part) => part.query));
  if (!merged) {
    await Promise.all(parts.map((part) => sendPart(source, part.members)));
    return;
  }
  const first = batch[0]!.options;
  const options = {
    ...first,
    request: {
      ...first.request,
      query: merged.query,
      operationName: merged.operationName,
      variables: merged.variables(parts.map(({ members }) => variablesOf(members))),
    },
  } as GraphQLDataSourceProcessOptions;
  const response = await request(source, options, batch);
  if (!response) return;
  if (failedWhole(response)) return shareFailure(batch, response);
  if (!placeable(response, merged.aliases)) return alone(source, batch);
  parts.forEach((part, i) => settle(part.members, partOf(response, i, merged.aliases)));
}

/**
 * An answer with no data and only errors that name nothing: the request failed as a whole
 * (the subgraph down, overloaded, refusing the caller), as each fetch's own would. Each gets
 * it; asking again one by one would only load that subgraph more at its worst moment.
 */
function failedWhole(response: GatewayGraphQLResponse): boolean {
  return response.data == null && (response.errors ?? []).every((error) => !error.path);
}

function shareFailure(members: readonly Member[], response: GatewayGraphQLResponse): void {
  for (const member of members) member.resolve(response);
}

/**
 * Whether every error of an answer shared by several fetches says which entity it is about
 * (`<root>[i]`), and there is data to split. An error that names no entity beside data, or
 * one entity's error that took all the data with it, could be any one fetch's doing: handed
 * to all, it would fail fetches whose own request succeeds, and tell callers of errors that
 * are not theirs.
 */
function placeable(response: GatewayGraphQLResponse, roots: readonly string[]): boolean {
  if (response.data == null) return false;
  return (response.errors ?? []).every((error: GraphQLFormattedError) => {
    const [root, index] = error.path ?? [];
    return typeof root === 'string' && roots.includes(root) && typeof index === 'number';
  });
}

/**
 * Sends each fetch in a request of its own, for an answer that could not be split: each gets
 * what it would have got had it never been merged. At worst, as many requests as a router
 * that does not merge sends, and one more.
 */
async function alone(source: GraphQLDataSource, members: readonly Member[]): Promise<void> {
  await Promise.all(members.map((member) => sendPart(source, [member])));
}

/** The subgraph's answer, or `undefined` once a failed request has failed every member. */
async function request(
  source: GraphQLDataSource,
  options: GraphQLDataSourceProcessOptions,
  members: readonly Member[],
): Promise<GatewayGraphQLResponse | undefined> {
  try {
    return await source.process(options);
  } catch (error) {
    for (const member of members) member.reject(error);
    return undefined;
  }
}

/** The batch split by query and variables, in the order of each one's first fetch. */
function partsOf(batch: readonly Member[]): Part[] {
  const parts = new Map<string, Part>();
  for (const member of batch) {
    const { query = '', variables = {} } = member.options.request;
    const { representations: _own, ...rest } = variables;
    const key = `${JSON.stringify(rest)}\u0000${query}`;
    let part = parts.get(key);
    if (!part) {
      part = { query, members: [] };
      parts.set(key, part);
    }
    part.members.push(member);
  }
  return [...parts.values()];
}

/** The variables of fetches that share a query: the first one's, with every representation. */
function variablesOf(members: readonly Member[]): Record<string, unknown> {
  const first = members[0]!;
  const representations =
    members.length === 1 ? first.representations : members.flatMap((m) => m.representations);
  return { ...first.options.request.variables, representations };
}

/** Sends fetches that share one query as one request and splits the answer back. */
async function sendPart(source: GraphQLDataSource, members: Member[]): Promise<void> {
  const first = members[0]!;
  const options =
    members.length === 1
      ? first.options
      : ({
          ...first.options,
          request: { ...first.options.request, variables: variablesOf(members) },
        } as GraphQLDataSourceProcessOptions);
  const response = await request(source, options, members);
  if (!response) return;
  if (members.length > 1 && failedWhole(response)) return shareFailure(members, response);
  if (members.length > 1 && !placeable(response, ENTITIES_ROOT)) return alone(source, members);
  settle(members, response);
}

const ENTITIES_ROOT = ['_entities'];

/**
 * Part `i`'s answer within the (placeable) answer to a merged query, as if it had been sent
 * alone: its aliased entities as `_entities`, and its own errors, renumbered.
 */
function partOf(
  response: GatewayGraphQLResponse,
  i: number,
  aliases: readonly string[],
): GatewayGraphQLResponse {
  const alias = aliases[i]!;
  const errors = response.errors?.flatMap((error: GraphQLFormattedError) => {
    const [root, ...rest] = error.path ?? [];
    return root === alias ? [{ ...error, path: ['_entities', ...rest] }] : [];
  });
  const data = { _entities: response.data?.[alias] };
  const { errors: _all, data: _data, ...shared } = response;
  return errors?.length ? { ...shared, data, errors } : { ...shared, data };
}

/** Hands each of the fetches that shared one query its own slice of the answer. */
function settle(members: readonly Member[], response: GatewayGraphQLResponse): void {
  const count = members.reduce((sum, member) => sum + member.representations.length, 0);
  const problem = entityCountProblem(response, count);
  if (problem !== undefined) {
    for (const member of members) member.resolve(invalidResponse(response, problem));
    return;
  }
  if (members.length === 1) {
    members[0]!.resolve(response);
    return;
  }
  // Checked above and by `placeable`: data, with one entity per representation.
  const entities = response.data!['_entities'] as unknown[];
  let offset = 0;
  for (const member of members) {
    const start = offset;
    offset += member.representations.length;
    const data = { ...response.data, _entities: entities.slice(start, offset) };
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
  // Every error of an answer split between members names its entity (`placeable`).
  const index = entityIndex(error)!;
  if (index < start || index >= end) return [];
  const [, , ...rest] = error.path ?? [];
  return [{ ...error, path: ['_entities', index - start, ...rest] }];
}

/** The `i` of an error about `_entities[i]`. */
function entityIndex(error: GraphQLFormattedError): number | undefined {
  const [root, index] = error.path ?? [];
  return root === '_entities' && typeof index === 'number' ? index : undefined;
}
