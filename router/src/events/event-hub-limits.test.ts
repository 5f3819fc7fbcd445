import { describe, expect, it } from 'vitest';
import { fakeSubscriber, flush, gatedResolver, message, setup } from './event-hub-fixture.js';

describe('EventHub limits: resolutions in flight, pending events, slow members, fan-out turns', () => {
  it('runs at most maxResolutionsInFlight resolutions at once and starts the rest in arrival order', async () => {
    const { broker, hub } = setup({ maxResolutionsInFlight: 2 });
    const one = gatedResolver('one');
    const a = fakeSubscriber();
    hub.join('chat.1', one.spec, a.subscriber);
    const started = () => one.calls.map((call) => call.event['id']);

    for (const id of ['1', '2', '3', '4', '5']) broker.publish('chat.1', message(id));
    await flush();
    expect(started()).toEqual(['1', '2']);
    expect([hub.limiter.running, hub.limiter.waiting]).toEqual([2, 3]);

    one.settle('2');
    await flush();
    expect(started()).toEqual(['1', '2', '3']);
    one.settle('1');
    await flush();
    expect(started()).toEqual(['1', '2', '3', '4']);
    expect(a.received()).toEqual(['1', '2']);
    one.settle('4');
    await flush();
    expect(started()).toEqual(['1', '2', '3', '4', '5']);
    one.settle('5');
    one.settle('3');
    await flush();

    expect(one.mostRunning()).toBe(2);
    expect(a.received()).toEqual(['1', '2', '3', '4', '5']);
    expect([hub.limiter.running, hub.limiter.waiting]).toEqual([0, 0]);
  });

  it('drops events past maxPendingEventsPerGroup and tells subscribers once per run of drops', async () => {
    const { broker, counters, hub } = setup({ maxPendingEventsPerGroup: 3 });
    const one = gatedResolver('one');
    const a = fakeSubscriber();
    const b = fakeSubscriber();
    hub.join('chat.1', one.spec, a.subscriber);
    hub.join('chat.1', one.spec, b.subscriber);

    for (let id = 1; id <= 10; id++) broker.publish('chat.1', message(String(id)));
    await flush();
    expect(one.calls.map((call) => call.event['id'])).toEqual(['1', '2', '3']);
    expect(counters.eventsDropped).toBe(7);
    expect(a.results).toEqual([]);

    one.settle('3');
    one.settle('1');
    one.settle('2');
    await flush();
    expect(a.received()).toEqual(['1', '2', '3', 'EVENTS_DROPPED']);
    expect(b.received()).toEqual(['1', '2', '3', 'EVENTS_DROPPED']);

    // The backlog has drained: events are delivered again.
    broker.publish('chat.1', message('11'));
    await flush();
    one.settle('11');
    await flush();
    expect(a.received()).toEqual(['1', '2', '3', 'EVENTS_DROPPED', '11']);

    // A new run of drops is told once more.
    for (let id = 12; id <= 16; id++) broker.publish('chat.1', message(String(id)));
    await flush();
    expect(counters.eventsDropped).toBe(9);
    for (const id of ['12', '13', '14']) one.settle(id);
    await flush();
    const expected = ['1', '2', '3', 'EVENTS_DROPPED', '11', '12', '13', '14', 'EVENTS_DROPPED'];
    expect(a.received()).toEqual(expected);
    expect(b.received()).toEqual(expected);
    expect(one.calls).toHaveLength(7);
  });

  it('tells of dropped events only the members there when they were dropped', async () => {
    const { broker, hub } = setup({ maxPendingEventsPerGroup: 2 });
    const one = gatedResolver('one');
    const before = fakeSubscriber();
    hub.join('chat.1', one.spec, before.subscriber);
    for (const id of ['1', '2', '3']) broker.publish('chat.1', message(id));
    await flush();

    // Joins once 3 is dropped, while 1 and 2 are still being resolved: it missed nothing.
    const after = fakeSubscriber();
    hub.join('chat.1', one.spec, after.subscriber);
    one.settle('1');
    one.settle('2');
    await flush();
    broker.publish('chat.1', message('4'));
    await flush();
    one.settle('4');
    await flush();

    expect(before.received()).toEqual(['1', '2', 'EVENTS_DROPPED', '4']);
    expect(after.received()).toEqual(['4']);
  });

  it('drops a subscriber that cannot take a result, tells it it was too slow, and keeps serving the others', async () => {
    const { broker, counters, hub } = setup();
    const one = gatedResolver('one');
    const slow = fakeSubscriber();
    const fast = fakeSubscriber();
    hub.join('chat.1', one.spec, slow.subscriber);
    hub.join('chat.1', one.spec, fast.subscriber);
    slow.refuse();

    broker.publish('chat.1', message('1'));
    await flush();
    one.settle('1');
    await flush();
    expect(slow.tooSlow()).toBe(1);
    expect(counters.slowSubscriberCloses).toBe(1);
    expect(hub.subscribers).toBe(1);
    expect(fast.received()).toEqual(['1']);

    broker.publish('chat.1', message('2'));
    await flush();
    one.settle('2');
    await flush();
    expect(fast.received()).toEqual(['1', '2']);
    expect(slow.results).toEqual([]);
    expect(slow.tooSlow()).toBe(1);
    expect(slow.ended).toEqual([]);
    expect(counters.deliveries).toBe(2);
    expect(broker.unsubscribes('chat.1')).toBe(0);
  });

  describe('a fan-out larger than a turn', () => {
    /** One turn of the event loop: what was scheduled for the check phase before it runs. */
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

    it('lets I/O in between turns, and every member still gets every result once, in order', async () => {
      const { broker, counters, hub } = setup({ fanOutTurn: 100 });
      const one = gatedResolver('one');
      const members = Array.from({ length: 250 }, () => fakeSubscriber());
      for (const member of members) hub.join('chat.1', one.spec, member.subscriber);
      broker.publish('chat.1', message('1'));
      await flush();

      one.settle('1');
      await turn(); // queued before the pass began: it runs after the first turn of it
      expect(members.filter((m) => m.results.length > 0)).toHaveLength(100);
      await turn();
      expect(members.filter((m) => m.results.length > 0)).toHaveLength(200);
      await flush();
      for (const member of members) expect(member.received()).toEqual(['1']);
      expect(counters.deliveries).toBe(250);
      expect(one.serialized).toEqual(['one:1']);
    });

    it('gives each member all the results that were ready together in the same turn', async () => {
      const { broker, hub } = setup({ fanOutTurn: 100 });
      const one = gatedResolver('one');
      const members = Array.from({ length: 120 }, () => fakeSubscriber());
      for (const member of members) hub.join('chat.1', one.spec, member.subscriber);
      for (const id of ['1', '2', '3', '4']) broker.publish('chat.1', message(id));
      await flush();

      // Two results settle together (as one batched fetch answers two events) …
      one.settle('2');
      one.settle('1');
      await turn();
      // … so a turn serves 50 members, each with both of them (its socket writes them at once).
      expect(members.map((m) => m.received().length)).toEqual([
        ...Array<number>(50).fill(2),
        ...Array<number>(70).fill(0),
      ]);
      // What settles during the pass waits for the next one, after every member has 1 and 2.
      one.settle('3');
      await turn();
      expect(members.map((m) => m.received().length)).toEqual([
        ...Array<number>(100).fill(2),
        ...Array<number>(20).fill(0),
      ]);
      one.settle('4');
      for (let turns = 0; turns < 5; turns++) await turn(); // the rest of this pass, then 3 and 4's
      for (const member of members) expect(member.received()).toEqual(['1', '2', '3', '4']);
    });

    it('stops giving a member the rest of a pass once it is dropped as too slow or has left', async () => {
      const { broker, hub } = setup({ fanOutTurn: 100 });
      const one = gatedResolver('one');
      const slow = fakeSubscriber();
      const leaving = fakeSubscriber();
      const others = Array.from({ length: 3 }, () => fakeSubscriber());
      hub.join('chat.1', one.spec, slow.subscriber);
      // Leaves when it is given its first result, as a client whose socket closes then.
      const leave = hub.join('chat.1', one.spec, {
        ...leaving.subscriber,
        push(serialize, cursor) {
          leave();
          return leaving.subscriber.push(serialize, cursor);
        },
      });
      for (const other of others) hub.join('chat.1', one.spec, other.subscriber);
      slow.refuse();
      broker.publish('chat.1', message('1'));
      broker.publish('chat.1', message('2'));
      await flush();
      one.settle('1');
      one.settle('2');
      await flush();
      expect(slow.tooSlow()).toBe(1);
      expect(slow.results).toEqual([]);
      expect(leaving.received()).toEqual(['1']);
      for (const other of others) expect(other.received()).toEqual(['1', '2']);
      expect(hub.subscribers).toBe(3);
    });
  });

  it('releases the subject when its last subscriber is dropped as too slow', async () => {
    const { broker, counters, hub, counts } = setup();
    const one = gatedResolver('one');
    const slow = fakeSubscriber();
    hub.join('chat.1', one.spec, slow.subscriber);
    slow.refuse();

    broker.publish('chat.1', message('1'));
    await flush();
    one.settle('1');
    await flush();
    expect(slow.tooSlow()).toBe(1);
    expect(counters.slowSubscriberCloses).toBe(1);
    expect(counts()).toEqual([0, 0, 0]);
    expect(broker.unsubscribes('chat.1')).toBe(1);
  });
});
