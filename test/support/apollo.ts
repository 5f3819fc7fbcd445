import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { withoutCursor } from './graphql.js';
import { pushToPull, type Pull } from './streams.js';

/** Apollo Client with its HttpLink: subscriptions go over multipart HTTP. */
export function apolloClient(routerUrl: string): ApolloClient {
  return new ApolloClient({ link: new HttpLink({ uri: routerUrl }), cache: new InMemoryCache() });
}

export interface ApolloSubscription<T> extends Pull<ApolloClient.SubscribeResult<T>> {
  /** Aborts the request, as a client that leaves does. */
  unsubscribe(): void;
}

/** `client.subscribe` with errorPolicy "all", so results carry data and errors together. */
export function subscribeApollo<T = Record<string, unknown>>(
  client: ApolloClient,
  query: string,
  variables: Record<string, unknown> = {},
): ApolloSubscription<T> {
  const results = pushToPull<ApolloClient.SubscribeResult<T>>();
  const subscription = client
    .subscribe<T>({ query: gql(query), variables, errorPolicy: 'all' })
    .subscribe({
      next: (result) => results.push(withoutCursor(result).result),
      error: (error: unknown) => results.fail(error),
      complete: () => results.complete(),
    });
  return {
    next: results.next,
    completed: results.completed,
    unsubscribe: () => subscription.unsubscribe(),
  };
}
