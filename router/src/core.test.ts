import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphQLError, GraphQLSchema, type ExecutionResult } from 'graphql';
import { pino } from 'pino';
import {
  createCore,
  OPERATIONS_PER_TURN,
  type CoreOptions,
  type PreparedRequest,
  type SubscriptionSink,
} from './core.js';
import { ANONYMOUS } from './auth/caller.js';
import { countInto, createCounters } from './counters.js';
import { ProviderError } from './errors.js';
import { createEventValidator, type EntityEvent } from './events/event.js';
import { EventHub } from './events/event-hub.js';
import type { Executor } from './execution/executor.js';
import type { OperationCache, PreparedOperation } from './execution/operation.js';
import { fakeProvider } from './providers/fake-provider.js';
import type { SubscriptionHandlers } from './providers/provider.js';

const logger = pino({ level: 'silent' });

/** Lets every promise chain the hub started settle. */
async function flush(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A broker with one subscription at a time per subject, which the test publishes on. */
function fakeBroker() {
  const subscriptions: { subject: string; handlers: SubscriptionHandlers; active: boolean }[] = [];
  let unsubscribes = 0;
  let refusing = false;
  const provider = fakeProvider({
    subscribe(subject, handlers) {
      if (refusing) throw new ProviderError('permission denied', 'fake', subject);
      const subscription = { subject, handlers, active: true };
      subscriptions.push(subscription);
      return {
        unsubscribe: () => {
          subscription.active = false;
          unsubscribes++;
        },
      };
    },
  });
  const live = (subject: string) => {
    const found = subscriptions.filter((s) => s.subject === subject && s.active);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  return {
    provider,
    subscribes: () => subscriptions.length,
    unsubscribes: () => unsubscribes,
    refuse: () => void (refusing = true),
    publish(subject: string, event: EntityEvent) {
      live(subject).handlers.onMessage(new TextEncoder().encode(JSON.stringify(event)));
    },
    /** The broker ends the subscription, as when a permission is revoked. */
    end(subject: string) {
      const subscription = live(subject);
      subscription.active = false;
      subscription.handlers.onError(new ProviderError('permission revoked', 'fake', subject));
    },
  };
}

/** A client's connection: records writes and acknowledges them only when the test says so. */
function fakeSink({ backedUp = true, withFailed = false } = {}) {
  const written: string[] = [];
  const unacknowledged: (() => void)[] = [];
  const failures: GraphQLError[] = [];
  let tooSlow = 0;
  const sink: SubscriptionSink = {
    transport: 'graphql-ws',
    write(json, done) {
      written.push(json);
      unacknowledged.push(done);
    },
    isBackedUp: () => backedUp,
    tooSlow: () => void tooSlow++,
    ...(withFailed ? { failed: (error: GraphQLError) => void failures.push(error) } : {}),
  };
  return {
    sink,
    written,
    failures,
    tooSlow: () => tooSlow,
    results: () => written.map((json) => JSON.parse(json) as ExecutionResult),
    /** The OS takes every write so far. */
    acknowledge: () => unacknowledged.splice(0).forEach((done) => done()),
  };
}

/** Whether the lifetime iterator has finished, checked without waiting for it. */
async function isFinished(lifetime: AsyncIterableIterator<ExecutionResult>): Promise<boolean> {
  const next = lifetime.next().then((result) => result.done === true);
  return Promise.race([next, flush().then(() => false)]);
}

const message = (id: string): EntityEvent => ({ __typename: 'Message', id });
const resultFor = (id: string, text: string): ExecutionResult => ({
  data: { messageAdded: { id, text } },
});
/** A large ASCII text, and the length of a result carrying it for an event with a 2-digit id. */
const BIG = 'x'.repeat(1000);
const BIG_SIZE = JSON.stringify(resultFor('10', BIG)).length;

type Limits = Pick<CoreOptions, 'slowSubscriberLimit' | 'slowSubscriberMaxBytes'>;

/**
 * A core over a real hub, with a fake broker and an executor that resolves each event at
 * once to `{ messageAdded: { id, text } }`.
 */
function setup(limits: Limits = {}, text = 'x'.repeat(10)) {
  const broker = fakeBroker();
  const counters = createCounters();
  const hub = new EventHub({
    providers: new Map([['default', broker.provider]]),
    logger,
    instrumentation: countInto(counters),
  });
  const resolved: string[] = [];
  const executor: Pick<Executor, 'resolveEvent'> = {
    resolveEvent: (_operation, _variables, event) => {
      const id = String(event['id']);
      resolved.push(id);
      return Promise.resolve(resultFor(id, text));
    },
  };
  const snapshot = {
    version: 1,
    schema: new GraphQLSchema({}),
    operations: {} as OperationCache,
    executor: executor as Executor,
  };
  const core = createCore({
    snapshot,
    hub,
    logger,
    ...limits,
  });
  // Only what `subscribe` reads of a prepared operation.
  const operation = {
    key: 'subscription { messageAdded { id text } }',
    kind: 'subscription',
    subscription: {
      binding: {
        name: 'messageAdded',
        provider: 'default',
        validate: createEventValidator('messageAdded', new Map([['Message', ['id']]])),
      },
    },
  } as unknown as PreparedOperation;
  const request: PreparedRequest = {
    snapshot,
    request: { query: operation.key },
    operation,
    variables: { room: '1' },
    caller: ANONYMOUS,
    subject: 'chat.1',
  };
  /** Publishes events and lets their results reach the sinks. */
  const publish = async (...ids: string[]) => {
    for (const id of ids) broker.publish('chat.1', message(id));
    await flush();
  };
  return { broker, counters, hub, core, request, resolved, publish };
}

const ids = (count: number, from = 1) => Array.from({ length: count }, (_, i) => String(from + i));
const idsOf = (results: ExecutionResult[]) =>
  results.map((r) => (r.data?.['messageAdded'] as { id: string }).id);

describe('createCore().subscribe', () => {
  it('writes each result to the sink as JSON', async () => {
    const { core, request, publish } = setup();
    const client = fakeSink();
    core.subscribe(request, client.sink);

    await publish('1', '2');
    expect(client.written).toEqual([
      JSON.stringify(resultFor('1', 'x'.repeat(10))),
      JSON.stringify(resultFor('2', 'x'.repeat(10))),
    ]);
  });

  it('resolves each event once for clients with the same operation and variables', async () => {
    const { core, request, hub, publish, resolved } = setup();
    const first = fakeSink();
    const second = fakeSink();
    core.subscribe(request, first.sink);
    core.subscribe(request, second.sink);
    core.subscribe({ ...request, variables: { room: '2' } }, fakeSink().sink);
    expect([hub.subjects, hub.groups, hub.subscribers]).toEqual([1, 2, 3]);

    await publish('1');
    expect(resolved).toEqual(['1', '1']);
    expect(second.written).toEqual(first.written);
  });

  it('drops a subscriber whose connection is backed up once slowSubscriberLimit results are unwritten', async () => {
    const { core, request, hub, broker, counters, publish } = setup({ slowSubscriberLimit: 3 });
    const client = fakeSink({ backedUp: true });
    const lifetime = core.subscribe(request, client.sink);

    await publish(...ids(3));
    expect(client.written).toHaveLength(3);
    expect(client.tooSlow()).toBe(0);
    expect(await isFinished(lifetime)).toBe(false);

    await publish('4', '5');
    expect(idsOf(client.results())).toEqual(['1', '2', '3']);
    expect(client.tooSlow()).toBe(1);
    expect(counters.slowSubscriberCloses).toBe(1);
    expect(await isFinished(lifetime)).toBe(true);
    expect(hub.subscribers).toBe(0);
    expect(broker.unsubscribes()).toBe(1);
  });

  it('drops a subscriber whose connection is backed up once slowSubscriberMaxBytes of results are unwritten', async () => {
    const { core, request, hub, publish } = setup(
      { slowSubscriberMaxBytes: 2 * BIG_SIZE + 1 },
      BIG,
    );
    const client = fakeSink({ backedUp: true });
    const lifetime = core.subscribe(request, client.sink);

    await publish(...ids(5, 10));
    expect(client.written).toHaveLength(3); // the third starts past the limit
    expect(client.tooSlow()).toBe(1);
    expect(await isFinished(lifetime)).toBe(true);
    expect(hub.subscribers).toBe(0);
  });

  it('drops a subscriber whose connection is clear only at ten times slowSubscriberLimit', async () => {
    const { core, request, publish } = setup({ slowSubscriberLimit: 2 });
    const client = fakeSink({ backedUp: false });
    const lifetime = core.subscribe(request, client.sink);

    await publish(...ids(20));
    expect(client.written).toHaveLength(20);
    expect(client.tooSlow()).toBe(0);
    expect(await isFinished(lifetime)).toBe(false);

    await publish('21');
    expect(client.written).toHaveLength(20);
    expect(client.tooSlow()).toBe(1);
    expect(await isFinished(lifetime)).toBe(true);
  });

  it('drops a subscriber whose connection is clear only at ten times slowSubscriberMaxBytes', async () => {
    const { core, request, publish } = setup({ slowSubscriberMaxBytes: 2 * BIG_SIZE }, BIG);
    const client = fakeSink({ backedUp: false });
    const lifetime = core.subscribe(request, client.sink);

    await publish(...ids(20, 10));
    expect(client.written).toHaveLength(20);
    expect(client.tooSlow()).toBe(0);

    await publish('30');
    expect(client.written).toHaveLength(20);
    expect(client.tooSlow()).toBe(1);
    expect(await isFinished(lifetime)).toBe(true);
  });

  it('counts slowSubscriberMaxBytes in bytes, not UTF-16 code units, for non-ASCII results', async () => {
    // "€" is one UTF-16 code unit but three bytes of UTF-8, as the result goes on the wire.
    const text = '€'.repeat(1000);
    const json = JSON.stringify(resultFor('1', text));
    expect(json.length).toBeLessThan(2048);
    expect(Buffer.byteLength(json)).toBeGreaterThan(2048);
    const { core, request, publish } = setup({ slowSubscriberMaxBytes: 2048 }, text);
    const client = fakeSink({ backedUp: true });
    core.subscribe(request, client.sink);

    await publish('1', '2', '3');
    // The first result alone holds more than 2048 unwritten bytes: the second drops the client.
    expect(client.written).toHaveLength(1);
    expect(client.tooSlow()).toBe(1);
  });

  it.each([
    ['slowSubscriberLimit', { slowSubscriberLimit: 2 }],
    ['slowSubscriberMaxBytes', { slowSubscriberMaxBytes: 1.5 * BIG_SIZE }],
  ] as const)(
    'keeps a backed-up subscriber whose writes are acknowledged under %s',
    async (_, limits) => {
      const { core, request, publish } = setup(limits, BIG);
      const client = fakeSink({ backedUp: true });
      const lifetime = core.subscribe(request, client.sink);

      // Two results fit; acknowledging them makes room for two more, again and again.
      for (let id = 10; id < 40; id += 2) {
        await publish(String(id), String(id + 1));
        client.acknowledge();
      }
      expect(client.written).toHaveLength(30);
      expect(client.tooSlow()).toBe(0);
      expect(await isFinished(lifetime)).toBe(false);

      // The limit still holds for writes that are not acknowledged.
      await publish('40', '41', '42');
      expect(client.written).toHaveLength(32);
      expect(client.tooSlow()).toBe(1);
    },
  );

  it('unsubscribes when the client leaves (the lifetime is returned)', async () => {
    const { core, request, hub, broker, publish } = setup();
    const client = fakeSink();
    const lifetime = core.subscribe(request, client.sink);
    const next = lifetime.next();
    await publish('1');
    expect(hub.subscribers).toBe(1);

    await lifetime.return!();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect([hub.subjects, hub.subscribers]).toEqual([0, 0]);
    expect(broker.unsubscribes()).toBe(1);
    expect(client.written).toHaveLength(1);
    expect(client.tooSlow()).toBe(0);

    await lifetime.return!(); // a second return changes nothing
    expect(broker.unsubscribes()).toBe(1);
  });

  it('writes the error as the last result when the event stream fails and the sink has no failed()', async () => {
    const { core, request, broker, publish } = setup();
    const client = fakeSink();
    const lifetime = core.subscribe(request, client.sink);
    await publish('1');

    broker.end('chat.1');
    expect(await isFinished(lifetime)).toBe(true);
    const results = client.results();
    expect(results).toHaveLength(2);
    expect(results[1]).toEqual({
      errors: [
        {
          message: 'The event stream for this subscription failed.',
          extensions: { code: 'SUBSCRIPTION_FAILED' },
        },
      ],
    });
  });

  it('hands the error to sink.failed() instead of writing it, when the sink has one', async () => {
    const { core, request, broker, publish } = setup();
    const client = fakeSink({ withFailed: true });
    const lifetime = core.subscribe(request, client.sink);
    await publish('1');

    broker.end('chat.1');
    expect(await isFinished(lifetime)).toBe(true);
    expect(client.failures.map((error) => error.extensions['code'])).toEqual([
      'SUBSCRIPTION_FAILED',
    ]);
    expect(client.written).toHaveLength(1);
  });

  it('ends the subscription at once with SUBSCRIPTION_FAILED when the broker refuses the subject', async () => {
    const { core, request, broker, hub } = setup();
    broker.refuse();
    const client = fakeSink();
    const lifetime = core.subscribe(request, client.sink);

    expect(await isFinished(lifetime)).toBe(true);
    expect(client.results().map((r) => r.errors?.[0]?.extensions?.['code'])).toEqual([
      'SUBSCRIPTION_FAILED',
    ]);
    expect(hub.subscribers).toBe(0);
  });

  it('calls sink.closed() once however the subscription ends: the client leaving, or the stream failing', async () => {
    const { core, request, broker } = setup();
    const closed = [0, 0];
    const left = core.subscribe(request, { ...fakeSink().sink, closed: () => void closed[0]!++ });
    const failed = core.subscribe(
      { ...request, variables: { room: '2' }, subject: 'chat.2' },
      { ...fakeSink().sink, closed: () => void closed[1]!++ },
    );
    expect(closed).toEqual([0, 0]);

    await left.return!();
    await left.return!();
    broker.end('chat.2');
    expect(await isFinished(failed)).toBe(true);
    await failed.return!();
    expect(closed).toEqual([1, 1]);
  });
});

describe('a subscription whose caller has a token', () => {
  afterEach(() => void vi.useRealTimers());
  const fakeTime = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });

  it('ends with TOKEN_EXPIRED when the token expires, and leaves the hub', async () => {
    fakeTime();
    const { core, request, hub, broker } = setup();
    const caller = { ...ANONYMOUS, claims: { sub: '1' }, expiresAt: Date.now() + 60_000 };
    const client = fakeSink();
    const lifetime = core.subscribe({ ...request, caller }, client.sink);
    vi.advanceTimersByTime(59_999);
    expect(await isFinished(lifetime)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(client.results().map((r) => r.errors?.[0]?.extensions?.['code'])).toEqual([
      'TOKEN_EXPIRED',
    ]);
    expect(await isFinished(lifetime)).toBe(true);
    expect([hub.subscribers, broker.unsubscribes()]).toEqual([0, 1]);
  });

  it('hands the expiry to the sink that closes for it, and clears its timer when it ends first', async () => {
    fakeTime();
    const { core, request } = setup();
    const caller = { ...ANONYMOUS, expiresAt: Date.now() + 1000 };
    const expired: GraphQLError[] = [];
    const client = fakeSink();
    const lifetime = core.subscribe(
      { ...request, caller },
      { ...client.sink, expired: (error) => void expired.push(error) },
    );
    vi.advanceTimersByTime(1000);
    expect(expired.map((e) => e.extensions['code'])).toEqual(['TOKEN_EXPIRED']);
    expect(client.written).toEqual([]);
    expect(await isFinished(lifetime)).toBe(true);

    const left = core.subscribe(
      { ...request, caller: { ...caller, expiresAt: Date.now() + 1000 } },
      client.sink,
    );
    expect(vi.getTimerCount()).toBe(1);
    await left.return!();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('createCore().turn', () => {
  it('lets OPERATIONS_PER_TURN operations start per turn of the event loop, in order', async () => {
    const { core } = setup();
    const started: number[] = [];
    const crowd = 2 * OPERATIONS_PER_TURN + 1;
    const firsts = (count: number) => Array.from({ length: count }, (_, i) => i);
    const all = Array.from({ length: crowd }, (_, i) => core.turn().then(() => started.push(i)));
    await Promise.resolve();
    expect(started).toEqual(firsts(OPERATIONS_PER_TURN));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(started).toHaveLength(2 * OPERATIONS_PER_TURN);
    await Promise.all(all);
    expect(started).toEqual(firsts(crowd));
  });
});
