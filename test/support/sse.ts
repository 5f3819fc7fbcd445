import { createClient, type Client } from 'graphql-sse';
import { withoutCursor, type Result } from './graphql.js';
import { pushToPull, type Pull } from './streams.js';

/** A graphql-sse client in distinct connections mode on the router's `/graphql`. */
export function sseClient(routerUrl: string, headers?: Record<string, string>): Client {
  return createClient({ url: routerUrl, retryAttempts: 0, ...(headers ? { headers } : {}) });
}

export interface SseSubscription<T> extends Pull<Result<T>> {
  /** Closes the connection, as a client that leaves does. */
  unsubscribe(): void;
}

export function subscribeSse<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): SseSubscription<T> {
  const results = pushToPull<Result<T>>();
  const unsubscribe = client.subscribe<T>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (value) => results.push(withoutCursor(value as Result<T>).result),
      error: (error) => results.fail(error),
      complete: () => results.complete(),
    },
  );
  return { next: results.next, completed: results.completed, unsubscribe };
}

/** The events of an SSE body: comments dropped, fields by name (`id`, `event`, `data`). */
export function parseEvents(body: string): Record<string, string>[] {
  return body
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line !== '' && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) =>
      Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
        }),
      ),
    );
}

/** Lines that are a bare `:`, the heartbeat comments. */
export function heartbeats(body: string): number {
  return body.split('\n').filter((line) => line === ':').length;
}
