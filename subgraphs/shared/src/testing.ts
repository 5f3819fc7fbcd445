/**
 * Helpers for the subgraphs' tests, published as `@edfs/subgraph-shared/testing` so that
 * production code never imports them.
 */
import type { EntityEvent, EventPublisher } from './publisher.js';

export interface RecordedEvent {
  subject: string;
  event: EntityEvent;
}

/** An `EventPublisher` that keeps what it is given, in order. */
export interface RecordingPublisher extends EventPublisher {
  readonly events: readonly RecordedEvent[];
}

export function createRecordingPublisher(): RecordingPublisher {
  const events: RecordedEvent[] = [];
  return {
    events,
    publish: (subject, event) => void events.push({ subject, event }),
    close: async () => {},
  };
}

/** A GraphQL over HTTP response body. */
export interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation to `url` and returns the parsed body; fails on a non-200 status. */
export async function postGraphQL(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status !== 200) {
    throw new Error(`${url} answered HTTP ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as GraphQLResponse;
}
