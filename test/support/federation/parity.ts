/** Sending one request to Apollo Gateway and to the router alike, and reading what comes back. */
import { afterAll, beforeAll } from 'vitest';
import { composeSupergraph } from '@edfs/router';
import { startFederationSubgraphs, type FederationSubgraphs } from './subgraphs.js';
import { startApolloGateway, startRouterOn, type Endpoint } from './gateways.js';

/**
 * Within a `describe`: the federation subgraphs, with Apollo Gateway and the router both on
 * their supergraph, started before its tests and closed after them.
 */
export function besideApollo(): { readonly gateway: Endpoint; readonly router: Endpoint } {
  let subgraphs: FederationSubgraphs | undefined;
  const endpoints = {} as { gateway: Endpoint; router: Endpoint };
  beforeAll(async () => {
    subgraphs = await startFederationSubgraphs();
    const supergraphSdl = composeSupergraph(subgraphs.sources);
    [endpoints.gateway, endpoints.router] = await Promise.all([
      startApolloGateway(supergraphSdl),
      startRouterOn(supergraphSdl),
    ]);
  });
  afterAll(async () => {
    await Promise.all([endpoints.gateway?.close(), endpoints.router?.close()]);
    await subgraphs?.close();
  });
  return endpoints;
}
export interface Body {
  data?: unknown;
  errors?: {
    message: string;
    path?: unknown;
    locations?: unknown;
    extensions?: { code?: unknown };
  }[];
}

export type Accept = 'application/json' | 'application/graphql-response+json';

export async function send(
  url: string,
  query: string | undefined,
  variables?: Record<string, unknown>,
  operationName?: string,
  accept: Accept = 'application/json',
): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables, operationName }),
  });
  // Never an empty body: JSON.parse('') throws.
  return { status: response.status, body: JSON.parse(await response.text()) as Body };
}

/** What a client reads from each error: its message, locations and code. */
export function readable(body: Body): unknown {
  return body.errors?.map(({ message, locations, extensions }) => ({
    message,
    locations,
    code: extensions?.code,
  }));
}

export interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}
