import {
  RemoteGraphQLDataSource,
  type GraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
  type ServiceMap,
} from '@apollo/gateway';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Agent } from 'undici';
import {
  noopInstrumentation,
  secondsSince,
  type Instrumentation,
  type SubgraphOutcome,
} from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { DeadlineExceededError, withDeadline } from './deadline.js';
import { batchEntityFetches } from './entity-batcher.js';
import { noticeMissingEventEntity } from './missing-entity.js';
import { shareInflightQueries } from './shared-queries.js';
import { subgraphFetcher } from './subgraph-fetcher.js';
import { FetchTracer } from './traced-fetch.js';

export interface DataSourcesOptions {
  /** Subgraph URLs by name. */
  urls: ReadonlyMap<string, string>;
  /** Name of the events graph, which has no server. */
  eventsGraph: string;
  /** What answers the events graph's fetches: `createEventsSource`. */
  eventsSource: GraphQLDataSource;
  /** How long one subgraph fetch may take, from the executor's call to the answer. */
  timeoutMs: number;
  /** How long an entity fetch waits for others to share its request. @default 0 */
  batchWindowMs?: number;
  /** Identical queries in flight at once share one request (`shareInflightQueries`). @default false */
  dedupeQueries?: boolean;
  /**
   * Most representations in one batched entity request; more waits for the next one.
   * @default 1000
   */
  maxBatchRepresentations?: number | undefined;
  logger: Logger;
  /** Where each subgraph request (after batching) is reported. @default nothing is reported */
  instrumentation?: Instrumentation | undefined;
  /**
   * The connections the requests go through; destroying it aborts those in flight.
   * @default undici's global one
   */
  dispatcher?: Agent | undefined;
}

/** What the executor passes to every data source for one request or event. */
export interface FetchContext {
  /** Sent with every subgraph request: the caller's forwarded headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** While resolving one event, the events graph's "fetch" answers with the event. */
export interface EventContext extends FetchContext {
  event: Record<string, unknown>;
  /** Subgraphs that answered the event's own entity with null (filled while resolving). */
  missing: string[];
}

/** The service map for the executor: one HTTP source per subgraph, plus the events graph. */
export function createServiceMap(options: DataSourcesOptions): ServiceMap {
  const map: ServiceMap = Object.create(null);
  for (const [name, url] of options.urls) {
    const remote = instrumented(
      name,
      remoteSource(url, options.timeoutMs, options.dedupeQueries ?? false, options.dispatcher),
      options.instrumentation ?? noopInstrumentation,
    );
    const tracer = new FetchTracer(name);
    const batched = batchEntityFetches(remote, {
      windowMs: options.batchWindowMs ?? 0,
      maxRepresentations: options.maxBatchRepresentations,
      merged: tracer.merged,
    });
    const bounded = tracer.around(withDeadline(batched, options.timeoutMs));
    map[name] = guarded(name, noticeMissingEventEntity(name, bounded), options.logger);
  }
  map[options.eventsGraph] = options.eventsSource;
  return map;
}

function remoteSource(
  url: string,
  timeoutMs: number,
  dedupe: boolean,
  dispatcher: Agent | undefined,
): GraphQLDataSource {
  // In place of the default make-fetch-happen. The fetch's deadline is withDeadline's;
  // this timeout frees the socket of a request nobody waits for any more.
  const fetcher = subgraphFetcher(timeoutMs, dispatcher);
  return new RemoteGraphQLDataSource<FetchContext>({
    url,
    fetcher: dedupe ? shareInflightQueries(fetcher) : fetcher,
    willSendRequest({ request, context }) {
      // Absent for the gateway's own requests (none are made here) and in unit tests.
      const headers: FetchContext['headers'] = (context as Partial<FetchContext>).headers ?? {};
      for (const [name, value] of Object.entries(headers)) request.http?.headers.set(name, value);
    },
  });
}

/** Reports every request to one subgraph, with how it ended and how long it took. */
function instrumented(
  name: string,
  source: GraphQLDataSource,
  instrumentation: Instrumentation,
): GraphQLDataSource {
  return {
    async process(options: GraphQLDataSourceProcessOptions) {
      const start = performance.now();
      let outcome: SubgraphOutcome = 'error';
      try {
        const response = await source.process(options);
        outcome = response.errors?.length ? 'graphql_error' : 'ok';
        return response;
      } catch (error) {
        outcome = subgraphFailure(error);
        throw error;
      } finally {
        instrumentation.subgraphRequestFinished(name, outcome, secondsSince(start));
      }
    },
  };
}

/** What a subgraph request that threw ran into. */
export function subgraphFailure(error: unknown): SubgraphOutcome {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'timeout';
  }
  // RemoteGraphQLDataSource turns a non-2xx answer into an error carrying the response.
  if (error instanceof GraphQLError && error.extensions['response'] !== undefined) {
    return 'http_error';
  }
  return 'error';
}

/**
 * Turns a subgraph that cannot be reached, times out or answers garbage into a GraphQL
 * error on the fields it owed (partial data), instead of an opaque exception.
 */
function guarded(name: string, source: GraphQLDataSource, logger: Logger): GraphQLDataSource {
  return {
    async process(options: GraphQLDataSourceProcessOptions) {
      try {
        return await source.process(options);
      } catch (cause) {
        // The request's own timeout can still fire first, for a fetch sent without queueing.
        const timedOut =
          cause instanceof DeadlineExceededError ||
          (cause instanceof Error && cause.name === 'TimeoutError');
        logger.warn({ subgraph: name, err: cause }, 'subgraph request failed');
        const error: GraphQLFormattedError = {
          message: timedOut
            ? `Subgraph "${name}" timed out.`
            : `Subgraph "${name}" is unavailable.`,
          extensions: { code: timedOut ? 'SUBGRAPH_TIMEOUT' : 'SUBGRAPH_UNAVAILABLE' },
        };
        return { errors: [error] };
      }
    },
  };
}
