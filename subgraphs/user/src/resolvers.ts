import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { User, UserStore } from './store.js';

/** What the router sends to resolve `Message.user`: the key plus the `@requires`d `userId`. */
interface MessageRepresentation {
  id: string;
  userId: string;
}

/** Resolvers for `schemas/user.graphql`. */
export function createUserResolvers(store: UserStore): GraphQLResolverMap<unknown> {
  return {
    Query: {
      user: (_: unknown, { id }: { id: string }): User | null => store.get(id) ?? null,
      users: (): readonly User[] => store.list(),
    },
    User: {
      __resolveReference: ({ id }: { id: string }): User | null => store.get(id) ?? null,
    },
    Message: {
      user: ({ userId }: MessageRepresentation): User | null => store.get(userId) ?? null,
    },
  };
}
