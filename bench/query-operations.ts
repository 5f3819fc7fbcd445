/**
 * The query scenario's operations, each its own cell, and the answer each request must get
 * from the fixture's data: every gateway is sent the same request bodies and must return
 * the same `data`.
 */
import type { QueryFixture } from './query-fixture.js';

export const queryOperationNames = ['federated', 'requires', 'requires-varied'] as const;
export type QueryOperationName = (typeof queryOperationNames)[number];

export interface QueryOperation {
  /** The cell's label in the report. */
  readonly label: string;
  readonly query: string;
  /** The variables of each request, sent in turn, and the `data` a correct gateway answers. */
  requests(fixture: QueryFixture): { variables: Record<string, unknown>; expected: unknown }[];
}

const withAuthor = (fixture: QueryFixture, m: QueryFixture['messages'][number]) => ({
  id: m.id,
  text: m.text,
  user: { name: fixture.users[m.userId] },
});

const requiresQuery = `query Author($id: ID!) {
  message(id: $id) { id text user { name } }
}`;

/**
 * `federated` reads a root field of each of the three subgraphs, in parallel, and joins the
 * messages' authors from the user subgraph (the graph's one entity join, which is
 * `Message.user @requires(fields: "userId")`): four subgraph requests, ten entities.
 * `requires` is one message and its author: a fetch from the message subgraph, then the
 * `@requires` entity fetch from the user subgraph with `userId` in the representation.
 * `requires-varied` is the same with another message each request, 100 in turn: no two
 * requests in flight are the same, so sharing identical requests saves nothing there.
 */
export const queryOperations: Readonly<Record<QueryOperationName, QueryOperation>> = {
  federated: {
    label: '3 subgraphs + entity join',
    query: `query Federated($room: ID!, $user: ID!, $job: ID!) {
  messages(roomID: $room) { id text user { name } }
  user(id: $user) { id name }
  scrapeJob(id: $job) { id status }
}`,
    requests: (f) => [
      {
        variables: { room: f.room, user: '2', job: f.scrapeJob.id },
        expected: {
          messages: f.messages.map((m) => withAuthor(f, m)),
          user: { id: '2', name: f.users['2'] },
          scrapeJob: f.scrapeJob,
        },
      },
    ],
  },
  requires: {
    label: '@requires (Message.user)',
    query: requiresQuery,
    requests: (f) => [
      {
        variables: { id: f.messages[0]!.id },
        expected: { message: withAuthor(f, f.messages[0]!) },
      },
    ],
  },
  'requires-varied': {
    label: '@requires, 100 messages in turn',
    query: requiresQuery,
    requests: (f) =>
      f.many.map((m) => ({ variables: { id: m.id }, expected: { message: withAuthor(f, m) } })),
  },
};
