import { describe, expect, it } from 'vitest';
import { flush, fakeStream, spec, recorder, hub } from './catch-up-fixture.js';
import type { GroupSpec, Subscriber } from './event-hub.js';
import { noopTrace } from '../instrumentation.js';

describe('initial LAST: the last stored event, then every live one', () => {
  it('gives initial LAST the latest stored event first, then the live ones', async () => {
    const stream = fakeStream();
    stream.store('old');
    stream.store('latest');
    const events = hub(stream.provider);
    const late = recorder();
    events.join('room.1', spec, late.subscriber, 'last');
    await flush();
    stream.publish('next');
    await flush();
    expect(late.ids()).toEqual(['latest', 'next']);
    expect(stream.replays).toEqual([{ stream: 'chat', subject: 'room.1', after: 'last' }]);
  });

  it('starts LAST from the live events that came before its read, the one it found among them', async () => {
    const stream = fakeStream();
    stream.store('old');
    const events = hub(stream.provider);
    const late = recorder();
    events.join('room.1', spec, late.subscriber, 'last');
    // Both come after it joined and before its read, which finds 'second' the last stored.
    stream.publish('first');
    stream.publish('second');
    await flush();
    stream.publish('third');
    await flush();
    expect(late.ids()).toEqual(['first', 'second', 'third']);
  });

  it('starts LAST from the live events when the one its read found is still on its way', async () => {
    const stream = fakeStream();
    stream.store('old');
    const events = hub(stream.provider);
    const watcher = recorder();
    events.join('room.1', spec, watcher.subscriber);
    await flush();
    stream.publish('before'); // the subject's live events had begun when it joined
    await flush();
    const late = recorder();
    events.join('room.1', spec, late.subscriber, 'last');
    // Stored (the read finds 'second'), their live copies still on the way.
    stream.store('first');
    stream.store('second');
    await flush();
    stream.redeliver(3);
    stream.redeliver(4);
    stream.publish('third');
    await flush();
    expect(late.ids()).toEqual(['first', 'second', 'third']);
    expect(watcher.ids()).toEqual(['before', 'first', 'second', 'third']);
  });

  it('starts LAST from the live events on a subject with none yet, when they are still on their way', async () => {
    const stream = fakeStream();
    stream.store('old');
    const events = hub(stream.provider);
    const first = recorder();
    events.join('room.1', spec, first.subscriber, 'last'); // it opens the subject
    stream.store('first'); // stored (the read finds 'second'), their live copies on the way
    stream.store('second');
    await flush();
    stream.redeliver(2);
    stream.redeliver(3);
    stream.publish('third');
    await flush();
    expect(first.ids()).toEqual(['first', 'second', 'third']);
  });

  it('starts LAST from its own stream subscription on a subject a core field opened', async () => {
    const stream = fakeStream();
    for (const id of ['old1', 'old2']) stream.store(id);
    const events = hub(stream.provider);
    const { stream: _, ...onCore } = spec;
    const core = recorder();
    events.join('room.1', { ...onCore, key: 'core' }, core.subscriber);
    await flush();
    stream.publish('n1');
    await flush();
    const late = recorder();
    events.join('room.1', spec, late.subscriber, 'last');
    await flush();
    for (const id of ['n2', 'n3', 'n4']) stream.publish(id);
    await flush();
    expect(late.ids()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(core.ids()).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('starts LAST with none of the events that came before it joined, however long they take', async () => {
    const stream = fakeStream();
    let resolveAll!: () => void;
    const slow = new Promise<void>((resolve) => (resolveAll = resolve));
    const slowSpec: GroupSpec = {
      ...spec,
      resolve: async (event) => {
        await slow;
        return { data: { messageAdded: { id: event['id'] } } };
      },
    };
    const events = hub(stream.provider);
    const watcher = recorder();
    events.join('room.1', slowSpec, watcher.subscriber);
    await flush();
    for (const id of ['a1', 'a2', 'a3']) stream.publish(id); // still resolving when it joins
    const late = recorder();
    events.join('room.1', slowSpec, late.subscriber, 'last');
    stream.publish('b');
    await flush();
    resolveAll();
    await flush();
    expect(late.ids()).toEqual(['b']);
    expect(watcher.ids()).toEqual(['a1', 'a2', 'a3', 'b']);
  });

  it('starts LAST from the live events behind a notice held first for it', async () => {
    const stream = fakeStream();
    stream.store('old');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The 'skip' events are filtered out, late: the group is full when 'dropped' comes.
    const filtering: GroupSpec = {
      ...spec,
      resolve: async (event) => {
        if (!String(event['id']).startsWith('skip')) return spec.resolve(event, noopTrace);
        await held;
        return undefined;
      },
    };
    const events = hub(stream.provider, { maxPendingEventsPerGroup: 3 });
    const got: string[] = [];
    const subscriber: Subscriber = {
      push(serialize) {
        const result = JSON.parse(serialize()) as {
          data?: { messageAdded: { id: string } };
          errors?: { extensions: { code: string } }[];
        };
        got.push(result.errors?.[0]?.extensions.code ?? result.data!.messageAdded.id);
        return true;
      },
      end: () => undefined,
      tooSlow: () => undefined,
    };
    const readLast = stream.holdLast();
    events.join('room.1', filtering, subscriber, 'last');
    await flush();
    for (const id of ['skip1', 'skip2', 'skip3', 'dropped']) stream.publish(id);
    release();
    await flush();
    stream.publish('w');
    stream.publish('z');
    await flush();
    readLast(); // it finds 'z'
    await flush();
    expect(got).toEqual(['EVENTS_DROPPED', 'w', 'z']);
  });
});
