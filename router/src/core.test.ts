import { describe, expect, it } from 'vitest';
import { OPERATIONS_PER_TURN } from './core.js';
import {
  BIG,
  BIG_SIZE,
  fakeSink,
  ids,
  idsOf,
  isFinished,
  resultFor,
  setup,
} from './core-fixture.js';

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
