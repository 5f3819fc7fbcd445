import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { EventPublisher } from '@edfs/subgraph-shared';
import { DateTime } from './date-time.js';
import { assertNotBlank, assertSubjectToken } from './input.js';
import type { Message, MessageStore } from './store.js';

interface AddMessageArgs {
  roomID: string;
  text: string;
  userID: string;
}

/** The subject the events graph's `messageAdded(roomID)` listens on. */
export function roomSubject(roomID: string): string {
  return `room.${roomID}.messages`;
}

/** Resolvers for `schemas/message.graphql`, reading and writing `store`. */
export function createMessageResolvers(
  store: MessageStore,
  publisher: EventPublisher,
): GraphQLResolverMap<unknown> {
  return {
    DateTime,
    Query: {
      message: (_: unknown, { id }: { id: string }): Message | null => store.get(id) ?? null,
      messages: (_: unknown, { roomID }: { roomID: string }): readonly Message[] =>
        store.list(roomID),
    },
    Mutation: {
      addMessage: (_: unknown, { roomID, text, userID }: AddMessageArgs): Message => {
        assertSubjectToken('roomID', roomID);
        assertNotBlank('text', text);
        assertNotBlank('userID', userID);
        const message = store.add({ roomID, text, userId: userID, createdAt: new Date() });
        // Stored first, so a router resolving the event's key finds the message.
        publisher.publish(roomSubject(roomID), { __typename: 'Message', id: message.id });
        return message;
      },
    },
    Message: {
      __resolveReference: ({ id }: { id: string }): Message | null => store.get(id) ?? null,
    },
  };
}
