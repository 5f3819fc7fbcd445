import type { NewMessage } from './store.js';

/** Alice (user 1) and Bob (user 2) talking in room 123; they get ids "1" and "2". */
export const seedMessages: readonly NewMessage[] = [
  {
    roomID: '123',
    text: 'Hello, Bob!',
    userId: '1',
    createdAt: new Date('2024-05-01T09:00:00.000Z'),
  },
  {
    roomID: '123',
    text: 'Hi Alice!',
    userId: '2',
    createdAt: new Date('2024-05-01T09:01:00.000Z'),
  },
];
