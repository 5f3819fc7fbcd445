import { afterEach, describe, expect, it } from 'vitest';
import { EventHub, type GroupSpec } from './event-hub.js';
import {
  codeOf,
  fakeBroker,
  fakeSubscriber,
  flush,
  gatedResolver,
  logger,
  message,
  setup,
} from './event-hub-fixture.js';

describe('EventHub', () => {
  it('subscribes once per subject for every subscriber and group, and releases it when the last leaves', () => {
    const { broker, hub, counts } = setup();
    const one = gatedResolver('one');
    const two = gatedResolver('two');
    const leaveA = hub.join('chat.1', one.spec, fakeSubscriber().subscriber);
    const leaveB = hub.join('chat.1', one.spec, fakeSubscriber().subscriber);
    const leaveC = hub.join('chat.1', two.spec, fakeSubscriber().subscriber);
    const leaveD = hub.join('chat.2', one.spec, fakeSubscriber().subscriber);

    expect(broker.attempts).toEqual(['chat.1', 'chat.2']);
    expect(counts()).toEqual([2, 3, 4]);

    leaveA();
    leaveC();
    leaveA(); // leaving twice changes nothing
    expect(counts()).toEqual([2, 2, 2]);
    expect(broker.unsubscribes('chat.1')).toBe(0);

    leaveB();
    leaveB();
    expect(counts()).toEqual([1, 1, 1]);
    expect(broker.unsubscribes('chat.1')).toBe(1);

    leaveD();
    expect(counts()).toEqual([0, 0, 0]);
    expect(broker.unsubscribes('chat.2')).toBe(1);

    // A subject released can be subscribed again.
    hub.join('chat.1', one.spec, fakeSubscriber().subscriber);
    expect(broker.attempts).toEqual(['chat.1', 'chat.2', 'chat.1']);
    expect(counts()).toEqual([1, 1, 1]);
  });

  it('delivers results in publish order when resolutions finish out of order, serializing once per group per event', async () => {
    const { broker, counters, hub } = setup();
    const one = gatedResolver('one');
    const two = gatedResolver('two');
    const a = fakeSubscriber();
    const b = fakeSubscriber();
    const c = fakeSubscriber();
    hub.join('chat.1', one.spec, a.subscriber);
    hub.join('chat.1', one.spec, b.subscriber);
    hub.join('chat.1', two.spec, c.subscriber);

    broker.publish('chat.1', message('1'));
    broker.publish('chat.1', message('2'));
    await flush();
    expect(one.calls.map((call) => call.event)).toEqual([message('1'), message('2')]);
    expect(two.calls).toHaveLength(2);

    one.settle('2');
    two.settle('2');
    await flush();
    expect([a.results, b.results, c.results]).toEqual([[], [], []]);

    one.settle('1');
    two.settle('1');
    await flush();
    const result = (id: string, group: string) => ({ data: { messageAdded: { id, group } } });
    expect(a.results).toEqual([result('1', 'one'), result('2', 'one')]);
    expect(b.results).toEqual([result('1', 'one'), result('2', 'one')]);
    expect(c.results).toEqual([result('1', 'two'), result('2', 'two')]);

    // Both members of a group are handed the same serialization, made once.
    expect(a.serializers).toHaveLength(2);
    a.serializers.forEach((serialize, i) => expect(b.serializers[i]).toBe(serialize));
    expect(one.serialized).toEqual(['one:1', 'one:2']);
    expect(two.serialized).toEqual(['two:1', 'two:2']);
    expect(counters.deliveries).toBe(6);
  });

  it('skips a result its group filters out without holding up or reordering the later ones', async () => {
    const { broker, hub } = setup({ maxPendingEventsPerGroup: 3 });
    const one = gatedResolver('one');
    // As an @eventsFilter that lets only odd ids through.
    const odd: GroupSpec = {
      ...one.spec,
      resolve: async (event, trace) => {
        const result = await one.spec.resolve(event, trace);
        return Number(event['id']) % 2 === 1 ? result : undefined;
      },
    };
    const a = fakeSubscriber();
    hub.join('chat.1', odd, a.subscriber);
    for (const id of ['1', '2', '3']) broker.publish('chat.1', message(id));
    await flush();
    one.settle('3');
    one.settle('2');
    await flush();
    expect(a.received()).toEqual([]);
    one.settle('1');
    await flush();
    expect(a.received()).toEqual(['1', '3']);
    // A skipped event no longer counts as pending: the group takes as many again.
    for (const id of ['4', '5', '7']) broker.publish('chat.1', message(id));
    await flush();
    for (const id of ['4', '5', '7']) one.settle(id);
    await flush();
    expect(a.received()).toEqual(['1', '3', '5', '7']);
  });

  it('sends nothing to a subscriber that left while an event was resolved, and the result to the others', async () => {
    const { broker, hub } = setup();
    const one = gatedResolver('one');
    const leaving = fakeSubscriber();
    const staying = fakeSubscriber();
    const leave = hub.join('chat.1', one.spec, leaving.subscriber);
    hub.join('chat.1', one.spec, staying.subscriber);

    broker.publish('chat.1', message('1'));
    await flush();
    leave();
    one.settle('1');
    await flush();
    broker.publish('chat.1', message('2'));
    await flush();
    one.settle('2');
    await flush();

    expect(leaving.results).toEqual([]);
    expect(staying.received()).toEqual(['1', '2']);
    expect(broker.unsubscribes('chat.1')).toBe(0);
  });

  it('sends a subscriber that joins while an event is resolved only the events published after it joined', async () => {
    const { broker, hub } = setup();
    const one = gatedResolver('one');
    const early = fakeSubscriber();
    const late = fakeSubscriber();
    hub.join('chat.1', one.spec, early.subscriber);

    broker.publish('chat.1', message('1'));
    await flush();
    hub.join('chat.1', one.spec, late.subscriber);
    one.settle('1');
    await flush();
    expect(early.received()).toEqual(['1']);
    expect(late.received()).toEqual([]);

    broker.publish('chat.1', message('2'));
    await flush();
    one.settle('2');
    await flush();
    expect(early.received()).toEqual(['1', '2']);
    expect(late.received()).toEqual(['2']);
  });

  it('ends a subscriber with SUBSCRIPTION_FAILED when the broker refuses the subject, and asks the broker again on the next join', async () => {
    const { broker, hub, counts } = setup();
    const one = gatedResolver('one');
    const refused = fakeSubscriber();
    broker.refuse(true);

    const leave = hub.join('chat.1', one.spec, refused.subscriber);
    expect(refused.ended.map(codeOf)).toEqual(['SUBSCRIPTION_FAILED']);
    expect(counts()).toEqual([0, 0, 0]);
    leave(); // harmless

    broker.refuse(false);
    const accepted = fakeSubscriber();
    hub.join('chat.1', one.spec, accepted.subscriber);
    expect(broker.attempts).toEqual(['chat.1', 'chat.1']);
    expect(counts()).toEqual([1, 1, 1]);

    broker.publish('chat.1', message('1'));
    await flush();
    one.settle('1');
    await flush();
    expect(accepted.received()).toEqual(['1']);
    expect(accepted.ended).toEqual([]);
    expect(refused.results).toEqual([]);
  });

  it('ends every subscriber with SUBSCRIPTION_FAILED when the broker ends the subscription, and delivers nothing still in flight', async () => {
    const { broker, hub, counts } = setup();
    const one = gatedResolver('one');
    const two = gatedResolver('two');
    const a = fakeSubscriber();
    const b = fakeSubscriber();
    const c = fakeSubscriber();
    const leaveA = hub.join('chat.1', one.spec, a.subscriber);
    hub.join('chat.1', one.spec, b.subscriber);
    hub.join('chat.1', two.spec, c.subscriber);
    broker.publish('chat.1', message('1'));
    await flush();

    broker.end('chat.1');
    for (const subscriber of [a, b, c]) {
      expect(subscriber.ended.map(codeOf)).toEqual(['SUBSCRIPTION_FAILED']);
    }
    expect(counts()).toEqual([0, 0, 0]);

    one.settle('1');
    two.settle('1');
    await flush();
    expect([a.results, b.results, c.results]).toEqual([[], [], []]);

    // A new join subscribes again, and an old subscriber leaving late does not release it.
    const next = fakeSubscriber();
    hub.join('chat.1', one.spec, next.subscriber);
    expect(broker.attempts).toEqual(['chat.1', 'chat.1']);
    leaveA();
    expect(broker.unsubscribes('chat.1')).toBe(0);
    expect(counts()).toEqual([1, 1, 1]);

    broker.publish('chat.1', message('2'));
    await flush();
    one.settle('2');
    await flush();
    expect(next.received()).toEqual(['2']);
    expect(a.results).toEqual([]);
  });

  it('sends invalid events as INVALID_EVENT in order with valid ones, counted once per message', async () => {
    const { broker, counters, hub } = setup();
    const one = gatedResolver('one');
    const two = gatedResolver('two');
    const a = fakeSubscriber();
    const c = fakeSubscriber();
    hub.join('chat.1', one.spec, a.subscriber);
    hub.join('chat.1', two.spec, c.subscriber);

    broker.publish('chat.1', message('1'));
    broker.publish('chat.1', 'not json');
    broker.publish('chat.1', { __typename: 'User', id: '7' });
    broker.publish('chat.1', message('2'));
    await flush();
    // Invalid events never reach a resolver; they wait for the valid event before them.
    expect(one.calls.map((call) => call.event)).toEqual([message('1'), message('2')]);
    expect([a.results, c.results]).toEqual([[], []]);

    for (const resolver of [one, two]) {
      resolver.settle('2');
      resolver.settle('1');
    }
    await flush();
    const expected = ['1', 'INVALID_EVENT', 'INVALID_EVENT', '2'];
    expect(a.received()).toEqual(expected);
    expect(c.received()).toEqual(expected);
    expect(counters.eventsReceived).toBe(4);
    expect(counters.eventsInvalid).toBe(2);
  });

  describe('a resolution that rejects', () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    afterEach(() => {
      process.off('unhandledRejection', record);
      unhandled.length = 0;
    });

    it('while an earlier one is in flight raises no unhandled rejection, is answered in order, and later events still arrive', async () => {
      process.on('unhandledRejection', record);
      const { broker, hub } = setup();
      const one = gatedResolver('one');
      const a = fakeSubscriber();
      hub.join('chat.1', one.spec, a.subscriber);

      for (const id of ['1', '2', '3']) broker.publish('chat.1', message(id));
      await flush();
      one.calls[1]!.fail(new Error('subgraph down'));
      await flush();
      one.settle('1');
      one.settle('3');
      await flush();

      // An unhandled rejection ends a Node process (and with it every client's session).
      expect(unhandled).toEqual([]);
      expect(a.received()).toEqual(['1', 'INTERNAL_SERVER_ERROR', '3']);
    });
  });

  it('keeps each provider apart: a subject per provider, and a reconnect tells only its own', async () => {
    const nats = fakeBroker('default');
    const redis = fakeBroker('cache');
    const hub = new EventHub({
      providers: new Map([
        ['default', nats.provider],
        ['cache', redis.provider],
      ]),
      logger,
    });
    const onNats = gatedResolver('nats');
    const onRedis = gatedResolver('redis');
    const natsClient = fakeSubscriber();
    const redisClient = fakeSubscriber();
    hub.join('chat.1', onNats.spec, natsClient.subscriber);
    hub.join('chat.1', { ...onRedis.spec, provider: 'cache' }, redisClient.subscriber);
    expect([nats.attempts, redis.attempts, hub.subjects]).toEqual([['chat.1'], ['chat.1'], 2]);

    redis.publish('chat.1', message('1'));
    await flush();
    expect([onNats.calls.length, onRedis.calls.length]).toEqual([0, 1]);
    onRedis.settle('1');
    redis.reconnect();
    await flush();
    expect(redisClient.received()).toEqual(['1', 'EVENTS_MISSED']);
    expect(natsClient.received()).toEqual([]);
  });

  it('tells of an outage only the members there during it, even while its notice waits', async () => {
    const { broker, hub } = setup();
    const one = gatedResolver('one');
    const before = fakeSubscriber();
    hub.join('chat.1', one.spec, before.subscriber);
    broker.publish('chat.1', message('1'));
    await flush();
    broker.reconnect(); // its notice waits behind 1, still being resolved

    const after = fakeSubscriber();
    hub.join('chat.1', one.spec, after.subscriber);
    broker.publish('chat.1', message('2'));
    one.settle('1');
    one.settle('2');
    await flush();

    expect(before.received()).toEqual(['1', 'EVENTS_MISSED', '2']);
    expect(after.received()).toEqual(['2']);
  });
});
