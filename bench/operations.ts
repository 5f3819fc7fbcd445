/** The subscription operations the load process sends, and how to check a result. */

type Json = Record<string, unknown> | null | undefined;

export interface Operation {
  /** The `messageAdded` selection set. */
  readonly selection: string;
  /** Whether a `messageAdded` value carries what the selection joined from the subgraphs. */
  readonly joined: (value: Json) => boolean;
}

const text = (v: Json, key = 'text'): boolean => typeof v?.[key] === 'string';
const name = (v: Json, user = 'user', key = 'name'): boolean =>
  typeof (v?.[user] as Json)?.[key] === 'string';

/**
 * Operation 0 is the issue's: `{ id text user { name } }`. The others vary the selection
 * (aliases, more or fewer fields) for the mixed-selections scenario; every one selects `id`
 * unaliased, which is how receipts are matched to publishes.
 */
export const operations: readonly Operation[] = [
  { selection: '{ id text user { name } }', joined: (v) => text(v) && name(v) },
  { selection: '{ id body: text user { name } }', joined: (v) => text(v, 'body') && name(v) },
  { selection: '{ id text author: user { name } }', joined: (v) => text(v) && name(v, 'author') },
  {
    // Not email: it needs the users:email scope, and the bench's clients are anonymous.
    selection: '{ id text user { name userId: id } }',
    joined: (v) => text(v) && name(v, 'user', 'userId'),
  },
  { selection: '{ id text createdAt user { name } }', joined: (v) => text(v) && name(v) },
  { selection: '{ id user { name } }', joined: (v) => name(v) },
  { selection: '{ id text }', joined: (v) => text(v) },
  { selection: '{ id text user { id name } }', joined: (v) => text(v) && name(v) },
  {
    selection: '{ id t: text u: user { n: name } }',
    joined: (v) => text(v, 't') && name(v, 'u', 'n'),
  },
  {
    selection: '{ id __typename text user { __typename name } }',
    joined: (v) => text(v) && name(v),
  },
];

/** The document of operation `index`, with `$roomID` as its only variable. */
export function subscriptionDocument(index: number): string {
  const operation = operations[index % operations.length]!;
  return `subscription Bench${index}($roomID: ID!) { messageAdded(roomID: $roomID) ${operation.selection} }`;
}
