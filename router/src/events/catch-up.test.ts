import { describe, expect, it, vi } from 'vitest';
import { flush, fakeStream, spec, recorder, hub } from './catch-up-fixture.js';
import type { GroupSpec } from './event-hub.js';

describe('catching up from a stream position', () => {
  it('replays what it missed, then the live events that came meanwhile, none twice', async () => {
    const stream = fakeStream();
    const events = hub(stream.provider);
    const watcher = recorder();
    events.join('room.1', spec, watcher.subscriber);
    await flush();
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) stream.publish(id);
    await flush();

    const resumer = recorder();
    events.join('room.1', spec, resumer.subscriber, { after: 2 });
    await flush();
    // While the replay waits, live events arrive: m5 (it was in flight), then m6 and m7.
    stream.redeliver(5);
    stream.publish('m6');
    stream.publish('m7');
    await flush();
    expect(resumer.ids()).toEqual([]);
    stream.open();
    await flush();

    expect(resumer.ids()).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(resumer.received.map((r) => r.position)).toEqual([3, 4, 5, 6, 7]);
    stream.publish('m8');
    await flush();
    expect(resumer.ids()).toEqual(['m3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    // The live subscriber was never held back.
    expect(watcher.ids()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    // (It got m5 once: the hub skips what it delivered already to a member.)
  });

  it('gives a member that caught up and moves to another group at once nothing twice', async () => {
    const stream = fakeStream();
    for (const id of ['m1', 'm2']) stream.store(id);
    const events = hub(stream.provider);
    // The group it moves to (a reloaded schema's) resolves slowly.
    let resolveSlow!: () => void;
    const slow = new Promise<void>((resolve) => (resolveSlow = resolve));
    const next: GroupSpec = {
      ...spec,
      key: 'g2',
      resolve: async (event) => {
        await slow;
        return { data: { messageAdded: { id: event['id'] } } };
      },
    };
    events.join('room.1', next, recorder().subscriber);
    const resumer = recorder();
    events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    stream.publish('m3'); // held in its backlog while the replay waits, still resolving in g2
    await flush();
    stream.open();
    await flush();
    expect(resumer.ids()).toEqual(['m1', 'm2', 'm3']);
    expect(events.move('room.1', 'g', next, resumer.subscriber)).toBeDefined();
    await flush();
    resolveSlow();
    stream.publish('m4');
    await flush();
    expect(resumer.ids()).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('skips what its group filters out in the replay and live, keeping the order of the rest', async () => {
    const stream = fakeStream();
    for (const id of ['m1', 'x2', 'm3', 'x4']) stream.store(id);
    const events = hub(stream.provider);
    // As an @eventsFilter that lets only the "m" messages through.
    const filtered: GroupSpec = {
      ...spec,
      resolve: async (event) =>
        String(event['id']).startsWith('m')
          ? { data: { messageAdded: { id: event['id'] } } }
          : undefined,
    };
    const resumer = recorder();
    events.join('room.1', filtered, resumer.subscriber, { after: 0 });
    await flush();
    stream.publish('x5');
    stream.publish('m6');
    stream.open();
    await flush();
    expect(resumer.ids()).toEqual(['m1', 'm3', 'm6']);
    expect(resumer.received.map((r) => r.position)).toEqual([1, 3, 6]);
    stream.publish('m7');
    await flush();
    expect(resumer.ids()).toEqual(['m1', 'm3', 'm6', 'm7']);
  });

  it('ends a subscriber whose position the stream no longer holds with CURSOR_EXPIRED', async () => {
    const stream = fakeStream();
    stream.store('a');
    stream.store('b');
    stream.expire(2);
    const events = hub(stream.provider);
    const resumer = recorder();
    events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    expect(resumer.ended.map((e) => e.extensions['code'])).toEqual(['CURSOR_EXPIRED']);
    expect(events.subscribers).toBe(0);
    expect(events.subjects).toBe(0);
  });

  it('stops replaying for a subscriber that leaves, and releases the subject', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b', 'c']) stream.store(id);
    const events = hub(stream.provider);
    const resumer = recorder();
    const leave = events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    leave();
    stream.open();
    await flush();
    expect(resumer.ids()).toEqual([]);
    expect(events.subjects).toBe(0);
  });

  it('replays at the pace of the subscriber: nothing while it has no room', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b', 'c']) stream.store(id);
    stream.open();
    const events = hub(stream.provider);
    const slow = recorder();
    let room!: () => void;
    let full = true;
    slow.subscriber.writable = () =>
      full ? new Promise<void>((resolve) => (room = resolve)) : undefined;
    events.join('room.1', spec, slow.subscriber, { after: 0 });
    await flush();
    expect(slow.ids()).toEqual([]);
    full = false;
    room();
    await flush();
    expect(slow.ids()).toEqual(['a', 'b', 'c']);
  });

  it('drops a catching-up subscriber that stops reading, so the ones waiting for its place get it', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    stream.open();
    const events = hub(stream.provider, { maxReplaysInFlight: 1, replayStallMs: 200 });
    const stalled = recorder();
    let dropped = false;
    stalled.subscriber.writable = () => new Promise<void>(() => {}); // it never reads again
    stalled.subscriber.tooSlow = () => void (dropped = true);
    const waiting = recorder();
    events.join('room.1', spec, stalled.subscriber, { after: 0 });
    events.join('room.1', spec, waiting.subscriber, { after: 1 });
    await flush();
    expect(waiting.ids()).toEqual([]); // behind the stalled one's replay
    await vi.waitFor(() => expect(waiting.ids()).toEqual(['b']), { timeout: 5_000 });
    expect(dropped).toBe(true);
    expect(stalled.ids()).toEqual([]);
    stream.publish('c'); // and it is out of the group
    await flush();
    expect(stalled.ids()).toEqual([]);
    expect(waiting.ids()).toEqual(['b', 'c']);
  });

  it('resolves a stored event once for every member replaying it', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    stream.open();
    let resolutions = 0;
    const counted: GroupSpec = {
      ...spec,
      resolve: async (event) => {
        resolutions++;
        return { data: { messageAdded: { id: event['id'] } } };
      },
    };
    const events = hub(stream.provider);
    const resumers = [recorder(), recorder(), recorder()];
    for (const resumer of resumers)
      events.join('room.1', counted, resumer.subscriber, { after: 0 });
    await flush();
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['a', 'b']);
    expect(resolutions).toBe(2);
  });

  it('runs at most maxReplaysInFlight replays at once; the others wait their turn', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider, { maxReplaysInFlight: 1 });
    const first = recorder();
    const second = recorder();
    events.join('room.1', spec, first.subscriber, { after: 0 });
    events.join('room.1', spec, second.subscriber, { after: 1 });
    await flush();
    expect(stream.replays).toHaveLength(1); // the second waits for the first's place
    stream.open();
    await flush();
    expect(stream.replays).toHaveLength(2);
    expect(first.ids()).toEqual(['a', 'b']);
    expect(second.ids()).toEqual(['b']);
  });
});
