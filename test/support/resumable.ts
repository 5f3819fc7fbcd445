import type { Client } from 'graphql-ws';
import { withoutCursor, type Result } from './graphql.js';

export type Message = { messageAdded: { id: string } };
/** A room's messages, the room a variable: `r`. */
export const ROOM = 'subscription ($r: ID!) { messageAdded(roomID: $r) { id } }';

/** A graphql-ws subscription that can start from a cursor; results keep their cursor. */
export function resumable(client: Client, room: string, cursor?: string) {
  const iterator = client.iterate<Message>({
    query: ROOM,
    variables: { r: room },
    ...(cursor ? { extensions: { cursor } } : {}),
  });
  return {
    async next(): Promise<{ result: Result<Message>; cursor: string | undefined }> {
      const { value, done } = await iterator.next();
      if (done) throw new Error('completed');
      return withoutCursor(value as Result<Message>);
    },
    /** Reads ids until `count` have come; fails on an error result. */
    async ids(count: number): Promise<{ ids: string[]; cursor: string | undefined }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      while (ids.length < count) {
        const next = await this.next();
        if (next.result.errors) throw new Error(JSON.stringify(next.result.errors));
        ids.push(next.result.data!.messageAdded.id);
        cursor = next.cursor;
      }
      return { ids, cursor };
    },
    stop: () => iterator.return?.(),
  };
}

/** Ids `${prefix}${from}` to `${prefix}${to}`. */
export const range = (from: number, to: number, prefix = 'm') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
