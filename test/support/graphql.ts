import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { FormattedExecutionResult } from 'graphql';

export type Result<T = Record<string, unknown>> = FormattedExecutionResult<T>;

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

/** A graphql-transport-ws client on the router's `/graphql`; dispose it after the test. */
export function wsClient(routerUrl: string): Client {
  return createClient({
    url: routerUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Subscription<T> {
  /** The next result; rejects with the `error` message's GraphQL errors. */
  next(): Promise<Result<T>>;
  /** Completes the subscription from the client's side. */
  unsubscribe(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Subscription<T> {
  const iterator = client.iterate<T>({ query, ...(variables ? { variables } : {}) });
  return {
    async next() {
      const { value, done } = await iterator.next();
      if (done) throw new Error('the subscription completed');
      return value as Result<T>;
    },
    async unsubscribe() {
      await iterator.return?.();
    },
  };
}
