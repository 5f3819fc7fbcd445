import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import type { JetStreamManager } from 'nats';
import { startTestStack, type TestStack } from './support/stack.js';
import { wsClient } from './support/graphql.js';
import { resumable } from './support/resumable.js';

/**
 * A JetStream stream deleted under running subscriptions, and perhaps made again under its
 * name: its subscribers are told at once (SUBSCRIPTION_FAILED), rather than hearing nothing
 * for half a minute and then missing the new stream's first events.
 */
describe('a stream deleted under its subscribers', () => {
  let stack: TestStack;
  let client: Client;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    stack = await startTestStack();
    client = wsClient(stack.router.url);
    jsm = await stack.nc.jetstreamManager();
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
  });

  /** Publishes through JetStream: resolves once the stream has stored it, at its sequence. */
  const store = async (room: string, id: string) =>
    (
      await stack.nc
        .jetstream()
        .publish(`room.${room}.messages`, JSON.stringify({ __typename: 'Message', id }))
    ).seq;
  const failure = async (sub: ReturnType<typeof resumable>) => {
    const { result } = await sub.next();
    expect(result.errors?.map((error) => error.extensions?.['code'])).toEqual([
      'SUBSCRIPTION_FAILED',
    ]);
    await expect(sub.next()).rejects.toThrow('completed');
  };

  it('ends them when it is made anew; a new subscription reads the new stream from its first event', async () => {
    const before = resumable(client, 'anew');
    await stack.subscribedOn('room.anew.messages');
    for (const id of ['a1', 'a2', 'a3']) await store('anew', id);
    const { cursor } = await before.ids(3);

    const { config } = await jsm.streams.info('chat');
    await jsm.streams.delete('chat');
    await jsm.streams.add(config);
    await failure(before);

    const after = resumable(client, 'anew');
    await stack.subscribedOn('room.anew.messages');
    expect(await store('anew', 'b1')).toBe(1);
    expect((await after.ids(1)).ids).toEqual(['b1']);
    await after.stop();
    // The old stream's cursor names a position the new one has not reached.
    const resumed = resumable(client, 'anew', cursor);
    expect((await resumed.next()).result.errors?.[0]?.extensions?.['code']).toBe('CURSOR_EXPIRED');
  });

  it('ends them when it is deleted for good', async () => {
    const sub = resumable(client, 'gone');
    await stack.subscribedOn('room.gone.messages');
    await store('gone', 'g1');
    await sub.ids(1);
    await jsm.streams.delete('chat');
    await failure(sub);
  });
});
