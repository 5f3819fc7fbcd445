import type { User } from './store.js';

/** The authors of the seeded messages in the message subgraph. */
export const seedUsers: readonly User[] = [
  { id: '1', name: 'Alice', email: 'alice@wonderland.com' },
  { id: '2', name: 'Bob', email: 'bob@builder.com' },
];
