import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { pino } from 'pino';
import { countInto, createCounters } from '../counters.js';
import { ProviderError } from '../errors.js';
import type { EventProvider, SubscriptionHandlers } from '../providers/provider.js';
import { createEventValidator, type EntityEvent } from './event.js';
import { EventHub, type EventHubOptions, type GroupSpec, type Subscriber } from './event-hub.js';

const logger = pino({ level: 'silent' });
const validate = createEventValidator('messageAdded', new Map([['Message', ['id']]]));

/** Lets every promise chain the hub started settle. */
async function flush(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface FakeSubscription {
  readonly subject: string;
  readonly handlers: SubscriptionHandlers;
  unsubscribed: number;
  /** The broker ended it (`onError`). */
  ended: boolean;
}

/** A broker that records subscriptions and lets the test publish on them. */
function fakeBroker(id = 'default') {
  const subscriptions: FakeSubscription[] = [];
  const attempts: string[] = [];
  const reconnected: (() => void)[] = [];
  let refusing = false;
  const provider: EventProvider = {
    id,
    name: 'fake',
    kind: 'nats',
    capabilities: { streams: true, request: true },
    publish: () => Promise.resolve(),
    request: () => Promise.resolve(new Uint8Array()),
    firstAttempt: Promise.resolve(),
    syntax: { isToken: () => true, tokenRule: 'anything', maxSubjectBytes: 256 },
    subscribe(subject, handlers) {
      attempts.push(subject);
      if (refusing) throw new ProviderError('permission denied', 'fake', subject);
      const subscription: FakeSubscription = { subject, handlers, unsubscribed: 0, ended: false };
      subscriptions.push(subscription);
      return { unsubscribe: () => void subscription.unsubscribed++ };
    },
    async *replay() {},
    onReconnect: (listener) => void reconnected.push(listener),
    isConnected: () => true,
    close: () => Promise.resolve(),
  };
  /** The one subscription on `subject` that has been neither unsubscribed nor ended. */
  const live = (subject: string): FakeSubscription => {
    const found = subscriptions.filter(
      (s) => s.subject === subject && s.unsubscribed === 0 && !s.ended,
    );
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  return {
    provider,
    /** Subjects `subscribe` was called with, refused or not. */
    attempts,
    refuse: (on: boolean) => void (refusing = on),
    /** The connection came back after it was lost. */
    reconnect: () => reconnected.forEach((listener) => listener()),
    unsubscribes: (subject: string) =>
      subscriptions.filter((s) => s.subject === subject).reduce((n, s) => n + s.unsubscribed, 0),
    /** The broker ends the subscription on `subject`, as when a permission is revoked. */
    end(subject: string) {
      const subscription = live(subject);
      subscription.ended = true;
      subscription.handlers.onError(new ProviderError('permission revoked', 'fake', subject));
    },
    /** Publishes an event object as JSON, or raw bytes given as a string. */
    publish(subject: string, event: EntityEvent | string) {
      const text = typeof event === 'string' ? event : JSON.stringify(event);
      live(subject).handlers.onMessage(new TextEncoder().encode(text));
    },
  };
}

const message = (id: string): EntityEvent => ({ __typename: 'Message', id });

interface Resolution {
  readonly event: EntityEvent;
  settle(): void;
  fail(error: Error): void;
}

/**
 * A group's `resolve` whose promises the test settles by hand. Each result counts its own
 * serializations (`toJSON`) in `serialized`, as `group:id`.
 */
function gatedResolver(group: string) {
  const calls: Resolution[] = [];
  const serialized: string[] = [];
  let running = 0;
  let mostRunning = 0;
  const resolve = (event: EntityEvent): Promise<ExecutionResult> => {
    mostRunning = Math.max(mostRunning, ++running);
    return new Promise((settle, fail) =>
      calls.push({
        event,
        settle: () => {
          running--;
          const id = String(event['id']);
          const payload = { id, group };
          const toJSON = () => {
            serialized.push(`${group}:${id}`);
            return payload;
          };
          settle({ data: { messageAdded: { ...payload, toJSON } } });
        },
        fail: (error) => {
          running--;
          fail(error);
        },
      }),
    );
  };
  const spec: GroupSpec = {
    key: group,
    field: 'messageAdded',
    provider: 'default',
    validate,
    resolve,
  };
  return {
    spec,
    calls,
    serialized,
    mostRunning: () => mostRunning,
    /** Settles the resolution of the event with this id. */
    settle(id: string) {
      const call = calls.find((c) => c.event['id'] === id);
      if (!call) throw new Error(`event ${id} is not being resolved in ${group}`);
      call.settle();
    },
  };
}

/** A client's end: records what it receives; `refuse()` makes `push` report it is over its bound. */
function fakeSubscriber() {
  const results: ExecutionResult[] = [];
  const serializers: (() => string)[] = [];
  const ended: GraphQLError[] = [];
  let tooSlow = 0;
  let refusing = false;
  const subscriber: Subscriber = {
    push(serialize) {
      if (refusing) return false;
      serializers.push(serialize);
      results.push(JSON.parse(serialize()) as ExecutionResult);
      return true;
    },
    end: (error) => void ended.push(error),
    tooSlow: () => void tooSlow++,
  };
  return {
    subscriber,
    results,
    serializers,
    ended,
    tooSlow: () => tooSlow,
    refuse: () => void (refusing = true),
    /** Each result as the event id it carries, or the code of its first error. */
    received: () =>
      results.map((r) =>
        r.errors
          ? r.errors[0]?.extensions?.['code']
          : (r.data?.['messageAdded'] as { id: string }).id,
      ),
  };
}

type Limits = Pick<
  EventHubOptions,
  'maxResolutionsInFlight' | 'maxPendingEventsPerGroup' | 'fanOutTurn'
>;

function setup(limits: Limits = {}) {
  const broker = fakeBroker();
  const counters = createCounters();
  const hub = new EventHub({
    providers: new Map([['default', broker.provider]]),
    logger,
    instrumentation: countInto(counters),
    ...limits,
  });
  /** `[subjects, groups, subscribers]` now. */
  const counts = () => [hub.subjects, hub.groups, hub.subscribers];
  return { broker, counters, hub, counts };
}

const codeOf = (error: GraphQLError | undefined) => error?.extensions['code'];

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
});

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
