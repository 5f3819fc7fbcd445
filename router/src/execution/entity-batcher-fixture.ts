import { buildSchema, graphql } from 'graphql';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

export const ENTITIES =
  'query($representations:[_Any!]!){_entities(representations:$representations){...on Message{text}}}';

/** A subgraph that answers `_entities` with one entity per representation, and records calls. */
export function fakeSubgraph(answer?: (reps: { id: string }[]) => GatewayGraphQLResponse) {
  const calls: { query: string | undefined; representations: { id: string }[] }[] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const source: GraphQLDataSource = {
    async process({ request }) {
      const representations = (request.variables?.['representations'] ?? []) as { id: string }[];
      calls.push({ query: request.query, representations });
      await gate;
      return (
        answer?.(representations) ?? {
          data: { _entities: representations.map((r) => ({ text: `text ${r.id}` })) },
        }
      );
    },
  };
  return {
    source,
    calls,
    /** Holds the requests from now on; returns what answers these ones alone. */
    hold: (): (() => void) => {
      let open!: () => void;
      gate = new Promise((resolve) => (release = open = resolve));
      return open;
    },
    release: () => release(),
  };
}

/** A subgraph that runs what it is sent with graphql-js, and records each request. */
export function executableSubgraph() {
  const schema = buildSchema(`
    scalar _Any
    type Message { id: ID! text: String createdAt: String broken: String translated(locale: String): String }
    union _Entity = Message
    type Query { _entities(representations: [_Any!]!): [_Entity]! }
  `);
  const message = ({ id }: { id: string }) => ({
    __typename: 'Message',
    id,
    text: `text ${id}`,
    createdAt: `at ${id}`,
    broken: () => {
      throw new Error(`broken ${id}`);
    },
    translated: ({ locale }: { locale?: string }) => `${locale} ${id}`,
  });
  const calls: string[] = [];
  const source: GraphQLDataSource = {
    async process({ request }) {
      calls.push(request.query ?? '');
      const result = await graphql({
        schema,
        source: request.query ?? '',
        variableValues: request.variables ?? null,
        operationName: request.operationName ?? null,
        rootValue: {
          _entities: ({ representations }: { representations: { id: string }[] }) =>
            representations.map(message),
        },
      });
      return JSON.parse(JSON.stringify(result)) as GatewayGraphQLResponse;
    },
  };
  return { source, calls };
}

export const fetchOf = (
  ids: string[],
  query = ENTITIES,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  ({
    kind: 'incoming operation',
    request: {
      query,
      variables: { ...extra, representations: ids.map((id) => ({ __typename: 'Message', id })) },
    },
    context: { headers },
  }) as unknown as GraphQLDataSourceProcessOptions;
