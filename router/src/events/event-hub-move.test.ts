import { describe, expect, it } from 'vitest';
import { fakeSubscriber, flush, gatedResolver, message, setup } from './event-hub-fixture.js';

describe('EventHub.move', () => {
  it('delivers the events before, during and after a move exactly once and in order', async () => {
    const { broker, hub, counts } = setup();
    const v1 = gatedResolver('v1');
    const v2 = gatedResolver('v2');
    const a = fakeSubscriber();
    hub.join('chat.1', v1.spec, a.subscriber);

    broker.publish('chat.1', message('1'));
    await flush();
    v1.settle('1');
    await flush();
    // Published before the move, its resolution held at the gate in the old group.
    broker.publish('chat.1', message('2'));
    await flush();

    const leave = hub.move('chat.1', 'v1', v2.spec, a.subscriber);
    expect(leave).toBeTypeOf('function');
    // Both groups hold it while the old one finishes what it had.
    expect(counts()).toEqual([1, 2, 2]);
    // Published during the hand-over: resolved by both groups, delivered from the new one.
    broker.publish('chat.1', message('3'));
    await flush();
    expect(v2.calls.map((call) => call.event['id'])).toEqual(['3']);
    v2.settle('3');
    v1.settle('3');
    await flush();
    expect(a.received()).toEqual(['1']);

    v1.settle('2');
    await flush();
    expect(a.received()).toEqual(['1', '2', '3']);
    const groups = a.results.map((r) => (r.data?.['messageAdded'] as { group: string }).group);
    expect(groups).toEqual(['v1', 'v1', 'v2']);
    // The old group is gone with its last member.
    expect(counts()).toEqual([1, 1, 1]);

    broker.publish('chat.1', message('4'));
    await flush();
    expect(v1.calls).toHaveLength(3);
    v2.settle('4');
    await flush();
    expect(a.received()).toEqual(['1', '2', '3', '4']);

    leave!();
    expect(counts()).toEqual([0, 0, 0]);
    expect(broker.unsubscribes('chat.1')).toBe(1);
  });

  it('moves one member of a group and leaves the others where they are', async () => {
    const { broker, hub, counts } = setup();
    const v1 = gatedResolver('v1');
    const v2 = gatedResolver('v2');
    const moving = fakeSubscriber();
    const staying = fakeSubscriber();
    hub.join('chat.1', v1.spec, moving.subscriber);
    hub.join('chat.1', v1.spec, staying.subscriber);
    hub.move('chat.1', 'v1', v2.spec, moving.subscriber);
    await flush();
    expect(counts()).toEqual([1, 2, 2]);

    broker.publish('chat.1', message('1'));
    await flush();
    v1.settle('1');
    v2.settle('1');
    await flush();
    expect(moving.received()).toEqual(['1']);
    expect(staying.received()).toEqual(['1']);
    expect(moving.results[0]).toEqual({ data: { messageAdded: { id: '1', group: 'v2' } } });
    expect(staying.results[0]).toEqual({ data: { messageAdded: { id: '1', group: 'v1' } } });
  });

  it('leaves nothing registered when the subscriber leaves during the hand-over', async () => {
    const { broker, hub, counts } = setup();
    const v1 = gatedResolver('v1');
    const v2 = gatedResolver('v2');
    const a = fakeSubscriber();
    hub.join('chat.1', v1.spec, a.subscriber);
    broker.publish('chat.1', message('1'));
    await flush();

    const leave = hub.move('chat.1', 'v1', v2.spec, a.subscriber);
    broker.publish('chat.1', message('2'));
    await flush();
    leave!();
    expect(counts()).toEqual([0, 0, 0]);
    expect(broker.unsubscribes('chat.1')).toBe(1);

    // The old group finishing afterwards changes nothing and delivers nothing.
    v1.settle('1');
    v1.settle('2');
    v2.settle('2');
    await flush();
    expect(counts()).toEqual([0, 0, 0]);
    expect(a.results).toEqual([]);
    leave!();
    expect(broker.unsubscribes('chat.1')).toBe(1);
  });

  it('does not move a subscriber catching up on stored events, nor one that is not there', async () => {
    const { broker, hub, counts } = setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A replay that stays open until the test lets it end: the subscriber is catching up.
    broker.provider.replay = async function* () {
      await held;
    };
    const v1 = { ...gatedResolver('v1').spec, stream: 'CHAT' };
    const v2 = gatedResolver('v2');
    const a = fakeSubscriber();
    const leave = hub.join('chat.1', v1, a.subscriber, { after: 0 });
    await flush();

    expect(hub.move('chat.1', 'v1', v2.spec, a.subscriber)).toBeUndefined();
    expect(hub.move('chat.1', 'v0', v2.spec, a.subscriber)).toBeUndefined();
    expect(hub.move('chat.2', 'v1', v2.spec, a.subscriber)).toBeUndefined();
    expect(hub.move('chat.1', 'v1', v2.spec, fakeSubscriber().subscriber)).toBeUndefined();
    expect(counts()).toEqual([1, 1, 1]);

    release();
    await flush();
    leave();
    expect(counts()).toEqual([0, 0, 0]);
    expect(broker.unsubscribes('chat.1')).toBe(1);
  });
});
