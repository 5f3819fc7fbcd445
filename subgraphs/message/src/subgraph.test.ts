import type { RunningSubgraph } from '@edfs/subgraph-shared';
import { createRecordingPublisher, postGraphQL } from '@edfs/subgraph-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageSubgraph } from './subgraph.js';

const publisher = createRecordingPublisher();
let subgraph: RunningSubgraph;

beforeAll(async () => {
  subgraph = await createMessageSubgraph({ publisher });
});

afterAll(async () => {
  await subgraph.close();
});

const add = `mutation ($roomID: ID!, $text: String!, $userID: ID!) {
  addMessage(roomID: $roomID, text: $text, userID: $userID) { id text userId createdAt }
}`;

describe('message subgraph', () => {
  it('serves the seeded conversation in order', async () => {
    const response = await postGraphQL(
      subgraph.url,
      '{ messages(roomID: "123") { id text userId createdAt } message(id: "2") { text } }',
    );
    expect(response).toEqual({
      data: {
        messages: [
          { id: '1', text: 'Hello, Bob!', userId: '1', createdAt: '2024-05-01T09:00:00.000Z' },
          { id: '2', text: 'Hi Alice!', userId: '2', createdAt: '2024-05-01T09:01:00.000Z' },
        ],
        message: { text: 'Hi Alice!' },
      },
    });
  });

  it('stores a message, then publishes its key to the room subject', async () => {
    const response = await postGraphQL(subgraph.url, add, {
      roomID: 'lobby',
      text: 'Anyone here?',
      userID: '2',
    });
    const message = response.data?.['addMessage'];
    expect(message).toMatchObject({ id: '3', text: 'Anyone here?', userId: '2' });
    expect(publisher.events.at(-1)).toEqual({
      subject: 'room.lobby.messages',
      event: { __typename: 'Message', id: '3' },
    });

    const read = await postGraphQL(
      subgraph.url,
      `{ messages(roomID: "lobby") { id }
         _entities(representations: [{ __typename: "Message", id: "3" }, { __typename: "Message", id: "99" }]) {
           ... on Message { text }
         } }`,
    );
    expect(read).toEqual({
      data: { messages: [{ id: '3' }], _entities: [{ text: 'Anyone here?' }, null] },
    });
  });

  const empty = 'must not be empty';
  const token = 'must not contain ".", "*", ">" or whitespace';
  it.each([
    ['roomID', { roomID: '', text: 'hi', userID: '1' }, empty],
    ['roomID', { roomID: 'a.b', text: 'hi', userID: '1' }, token],
    ['roomID', { roomID: 'room*', text: 'hi', userID: '1' }, token],
    ['roomID', { roomID: '>', text: 'hi', userID: '1' }, token],
    ['roomID', { roomID: 'a b', text: 'hi', userID: '1' }, token],
    ['text', { roomID: '123', text: ' \n', userID: '1' }, empty],
    ['userID', { roomID: '123', text: 'hi', userID: '' }, empty],
  ])('refuses a bad %s: %j', async (argument, variables, reason) => {
    const before = publisher.events.length;
    const response = await postGraphQL(subgraph.url, add, variables);
    expect(response.data).toBeNull();
    expect(response.errors?.[0]).toMatchObject({
      message: `${argument} ${reason}`,
      extensions: { code: 'BAD_USER_INPUT', argument },
    });
    expect(publisher.events.length).toBe(before);
  });
});
