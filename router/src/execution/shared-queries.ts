/**
 * Identical subgraph queries in flight at once share one HTTP request: the same URL,
 * headers and body (query and variables) get the same answer, so the second caller waits
 * for the first one's instead of sending its own. Many clients sending the same operation
 * at once (a popular page) then cost the subgraphs one request, as Hive Gateway's
 * deduplication of in-flight requests does. Mutations are never shared, and a query sent
 * after a mutation to the same subgraph has answered never takes an answer read before it.
 */
import type { Fetcher } from '@apollo/utils.fetcher';

/**
 * `RemoteGraphQLDataSource` writes `query` first in its JSON body; an operation that is a
 * query starts with `query` or `{`. Anything else (a mutation, a body without a query) is
 * sent as it is.
 */
const QUERY_BODY = /^\{"query":"\s*(?:query\b|\{)/;

/**
 * `fetcher`, with identical queries in flight shared. Each caller gets its own `clone()` of
 * the answer, so the fetcher's responses must allow cloning before any is read (a fetch
 * `Response` does; `subgraphFetcher`'s hold their body as text). Entries live only while
 * their request is in flight: there are never more than requests being sent.
 */
export function shareInflightQueries(fetcher: Fetcher): Fetcher {
  const inflight = new Map<string, ReturnType<Fetcher>>();
  return async (url, init = {}) => {
    const { body } = init;
    if (typeof body !== 'string' || !QUERY_BODY.test(body)) {
      // A write, say: no query sent once it has answered may take an answer read before
      // it (a client reading what its own mutation changed).
      inflight.clear();
      try {
        return await fetcher(url, init);
      } finally {
        inflight.clear();
      }
    }
    const key = `${init.method ?? 'GET'} ${url}\n${JSON.stringify(init.headers ?? {})}\n${body}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = fetcher(url, init);
      inflight.set(key, pending);
      const sent = pending;
      const forget = (): void => {
        if (inflight.get(key) === sent) inflight.delete(key);
      };
      pending.then(forget, forget);
    }
    return (await pending).clone();
  };
}
