import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import type { Client } from 'graphql-ws';
import { encodeCursor } from '../router/src/events/cursor.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { wsClient } from './support/graphql.js';
import { range, resumable } from './support/resumable.js';

/**
 * A cursor whose events the stream cannot give any more is refused with CURSOR_EXPIRED
 * (and the subscription completes), never resumed with a silent gap.
 */
describe('resuming from a cursor the stream no longer backs', () => {
  let stack: TestStack;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack.router.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
  });

  const publish = (room: string, ids: string[]) => {
    for (const id of ids) stack.publish(`room.${room}.messages`, { __typename: 'Message', id });
  };
  /** Subscribes from `cursor`: the first result must be CURSOR_EXPIRED, then it completes. */
  const expectExpired = async (room: string, cursor: string | undefined) => {
    const sub = resumable(client, room, cursor);
    expect((await sub.next()).result.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'CURSOR_EXPIRED' } }),
    ]);
    await expect(sub.next()).rejects.toThrow('completed');
  };

  it('refuses a cursor older than what the stream keeps with CURSOR_EXPIRED', async () => {
    const first = resumable(client, 'expired');
    await stack.subscribedOn('room.expired.messages');
    publish('expired', ['e1']);
    const { cursor } = await first.ids(1);
    await first.stop();
    const nc = await connect({ servers: stack.natsUrl });
    // Acknowledged by the stream, so both are stored before the purge keeps only e3.
    const js = nc.jetstream();
    for (const id of ['e2', 'e3']) {
      await js.publish('room.expired.messages', JSON.stringify({ __typename: 'Message', id }));
    }
    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge('chat', { keep: 1 }); // only the newest message stays
    await nc.close();

    await expectExpired('expired', cursor);
  });

  it("refuses a cursor whose event the subject's limit pushed out, while older ones of other rooms stay", async () => {
    // Another room's event, stored before the cursor's, keeps the stream's first sequence
    // before it: only the subject's own messages tell that events after the cursor are gone.
    publish('older', ['o1']);
    const first = resumable(client, 'crowded');
    await stack.subscribedOn('room.crowded.messages');
    publish('crowded', ['c0']);
    const { cursor } = await first.ids(1);
    await first.stop();
    // The stream keeps 1,000 messages of a subject (maxMessagesPerSubject): c0 and c1 go.
    const js = stack.nc.jetstream();
    for (const id of range(1, 1001, 'c')) {
      await js.publish('room.crowded.messages', JSON.stringify({ __typename: 'Message', id }));
    }

    await expectExpired('crowded', cursor);
  });

  it('refuses a cursor whose every later event of the subject is gone', async () => {
    const first = resumable(client, 'emptied');
    await stack.subscribedOn('room.emptied.messages');
    publish('emptied', ['x1']);
    const { cursor } = await first.ids(1);
    await first.stop();
    const js = stack.nc.jetstream();
    for (const id of ['x2', 'x3']) {
      await js.publish('room.emptied.messages', JSON.stringify({ __typename: 'Message', id }));
    }
    // As when all of them passed maxAgeSeconds: the subject has nothing stored now.
    const jsm = await stack.nc.jetstreamManager();
    await jsm.streams.purge('chat', { filter: 'room.emptied.messages' });
    await expectExpired('emptied', cursor);
  });

  it("refuses a cursor past the stream's last event: one from a stream made anew since", async () => {
    // As a browser keeps its Last-Event-ID across a restart on a fresh NATS store.
    publish('reset', ['r1']);
    const jsm = await stack.nc.jetstreamManager();
    const { last_seq } = (await jsm.streams.info('chat')).state;
    await expectExpired('reset', encodeCursor({ stream: 'chat', sequence: last_seq + 1_000 }));
    // Resumed, it would have taken every live event up to there for delivered already.
  });
});
