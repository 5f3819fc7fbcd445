import type { RunningSubgraph } from '@edfs/subgraph-shared';
import { postGraphQL } from '@edfs/subgraph-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserSubgraph } from './subgraph.js';

let subgraph: RunningSubgraph;

beforeAll(async () => {
  subgraph = await createUserSubgraph();
});

afterAll(async () => {
  await subgraph.close();
});

describe('user subgraph', () => {
  it('serves the users', async () => {
    const response = await postGraphQL(
      subgraph.url,
      '{ users { id name email } user(id: "2") { name } nobody: user(id: "9") { name } }',
    );
    expect(response).toEqual({
      data: {
        users: [
          { id: '1', name: 'Alice', email: 'alice@wonderland.com' },
          { id: '2', name: 'Bob', email: 'bob@builder.com' },
        ],
        user: { name: 'Bob' },
        nobody: null,
      },
    });
  });

  it('resolves users as entities, and a message author from the required userId', async () => {
    const response = await postGraphQL(
      subgraph.url,
      `query ($reps: [_Any!]!) {
        _entities(representations: $reps) {
          ... on User { name }
          ... on Message { id user { name } }
        }
      }`,
      {
        reps: [
          { __typename: 'User', id: '1' },
          { __typename: 'Message', id: '1', userId: '1' },
          { __typename: 'Message', id: '7', userId: '404' },
        ],
      },
    );
    expect(response).toEqual({
      data: {
        _entities: [
          { name: 'Alice' },
          { id: '1', user: { name: 'Alice' } },
          { id: '7', user: null },
        ],
      },
    });
  });
});
