import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { FormattedExecutionResult } from 'graphql';

export type Result<T = Record<string, unknown>> = FormattedExecutionResult<T>;

/** The example graph's chat subscription: `text` from the message subgraph, `user` from the user one. */
export const MESSAGE_ADDED = /* GraphQL */ `
  subscription ($roomID: ID!) {
    messageAdded(roomID: $roomID) {
      id
      text
      user {
        name
      }
    }
  }
`;

/** POSTs a GraphQL request the way GraphQL-over-HTTP clients do. */
export async function post<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; contentType: string | null; body: Result<T> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as Result<T>,
  };
}

/**
 * A graphql-transport-ws client on the router's `/graphql`, sending `connectionParams` in
 * its `connection_init`; dispose it after the test.
 */
export function wsClient(routerUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: routerUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(connectionParams ? { connectionParams } : {}),
  });
}

/**
 * Takes the stream cursor out of a result, so tests compare what they are about: a result
 * of a stream-backed field carries `extensions.cursor`, an opaque base64url string.
 */
export function withoutCursor<R extends { extensions?: Record<string, unknown> }>(
  result: R,
): { result: R; cursor: string | undefined } {
  const { cursor, ...extensions } = result.extensions ?? {};
  if (cursor === undefined) return { result, cursor: undefined };
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new Error(`not a cursor: ${JSON.stringify(cursor)}`);
  }
  const { extensions: _, ...rest } = result;
  const stripped = (Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest) as R;
  return { result: stripped, cursor };
}

export interface Subscription<T> {
  /** The next result, without its cursor; rejects with the `error` message's GraphQL errors. */
  next(): Promise<Result<T>>;
  /** The cursor of the last result `next` gave, for a stream-backed field. */
  readonly cursor: string | undefined;
  /** Completes the subscription from the client's side. */
  unsubscribe(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Subscription<T> {
  const iterator = client.iterate<T>({ query, ...(variables ? { variables } : {}) });
  let cursor: string | undefined;
  return {
    get cursor() {
      return cursor;
    },
    async next() {
      const { value, done } = await iterator.next();
      if (done) throw new Error('the subscription completed');
      const taken = withoutCursor(value as Result<T>);
      cursor = taken.cursor;
      return taken.result;
    },
    async unsubscribe() {
      await iterator.return?.();
    },
  };
}
