import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { noopTrace, type FetchTrace, type Trace } from '../instrumentation.js';
import { subgraphFailure } from './data-sources.js';
import { DeadlineExceededError } from './deadline.js';

/**
 * What the executor puts in the context of the fetches it traces: the request's `execute`
 * phase, or the event's resolution.
 */
export interface TracedContext {
  trace?: Trace | undefined;
}

/**
 * Traces the fetches from one subgraph: a span per fetch as the executor made it (the
 * time queued for a batch included), its W3C headers on the request sent for it. Fetches
 * merged into one request by the entity batcher each keep their span, in their own trace;
 * the request carries the first one's headers (so the subgraph's spans sit under it), and
 * the others' spans link to the first.
 */
export class FetchTracer {
  readonly #fetches = new WeakMap<GraphQLDataSourceProcessOptions, FetchTrace>();

  constructor(readonly subgraph: string) {}

  /** `source`, its fetches traced under their context's `trace`. */
  around(source: GraphQLDataSource): GraphQLDataSource {
    const traced = async (
      options: GraphQLDataSourceProcessOptions,
      fetch: FetchTrace,
      headers: readonly [string, string][],
    ) => {
      const sent = withHeaders(options, headers);
      this.#fetches.set(sent, fetch);
      try {
        const response = await source.process(sent);
        fetch.end(response.errors?.length ? 'graphql_error' : 'ok');
        return response;
      } catch (error) {
        fetch.end(error instanceof DeadlineExceededError ? 'timeout' : subgraphFailure(error));
        throw error;
      }
    };
    return {
      process: (options) => {
        const trace = (options.context as TracedContext | undefined)?.trace ?? noopTrace;
        const fetch = trace.fetch(this.subgraph);
        const headers = Object.entries(fetch.headers);
        // Untraced (tracing off, or not sampled): the fetch goes on as it came.
        if (headers.length === 0) return source.process(options);
        return traced(options, fetch, headers);
      },
    };
  }

  /** For the entity batcher: these fetches went out as one request, with the first's options. */
  readonly merged = (members: readonly GraphQLDataSourceProcessOptions[]): void => {
    const first = members[0] && this.#fetches.get(members[0]);
    if (!first) return;
    for (const member of members) this.#fetches.get(member)?.batched(first, members.length);
  };
}

/** A copy of the fetch's options whose request carries `headers` too. */
function withHeaders(
  options: GraphQLDataSourceProcessOptions,
  headers: readonly [string, string][],
): GraphQLDataSourceProcessOptions {
  const { request } = options;
  const merged = new Headers(request.http ? [...request.http.headers] : undefined);
  for (const [name, value] of headers) merged.set(name, value);
  // RemoteGraphQLDataSource copies these headers and sets its own method and URL.
  const http = { method: 'POST', url: request.http?.url ?? '', headers: merged };
  return { ...options, request: { ...request, http } } as GraphQLDataSourceProcessOptions;
}
