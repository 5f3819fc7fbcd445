import { describe, expect, it } from 'vitest';
import type { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { StreamPositionGoneError } from '../errors.js';
import type {
  EventProvider,
  ReplayRequest,
  StoredMessage,
  SubscriptionHandlers,
} from '../providers/provider.js';
import { GATHER_TURNS, SHARED_READ_MAX_BYTES, SHARED_READ_MAX_MESSAGES } from './catch-up.js';
import { decodeCursor } from './cursor.js';
import { createEventValidator } from './event.js';
import { EventHub, type EventHubOptions, type GroupSpec, type Subscriber } from './event-hub.js';
import { noopTrace } from '../instrumentation.js';

const encode = (id: string) =>
  new TextEncoder().encode(JSON.stringify({ __typename: 'Message', id }));

/** Lets every promise chain the hub started settle. */
async function flush(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A stream of its own: stored messages by position, live subscriptions the test feeds (on
 * the stream, or core ones that get no positions and say nothing of where they start),
 * and a replay that waits at `gate` before it yields, so the test can publish meanwhile.
 */
function fakeStream() {
  const stored: StoredMessage[] = [];
  const live = new Set<{ handlers: SubscriptionHandlers; stream: boolean }>();
  let opened!: () => void;
  const gate = new Promise<void>((resolve) => (opened = resolve));
  const replays: ReplayRequest[] = [];
  let firstPosition = 1;
  /** Where a read of the last stored event waits before it looks (`holdLast`). */
  let lastGate: Promise<void> | undefined;
  const provider: EventProvider = {
    id: 'default',
    name: 'fake',
    kind: 'nats',
    capabilities: { streams: true, request: true },
    publish: () => Promise.resolve(),
    request: () => Promise.resolve(new Uint8Array()),
    firstAttempt: Promise.resolve(),
    syntax: { isToken: () => true, tokenRule: 'anything', maxSubjectBytes: 256 },
    subscribe(_subject, handlers, options) {
      const entry = { handlers, stream: options?.stream !== undefined };
      live.add(entry);
      const from = stored.length + 1; // it delivers what is stored from now on
      queueMicrotask(() => (entry.stream ? handlers.onReady?.(from) : handlers.onReady?.()));
      return { unsubscribe: () => void live.delete(entry) };
    },
    async *replay(request) {
      replays.push(request);
      if (request.after === 'last') await lastGate;
      const last = stored.at(-1);
      if (!last) return;
      if (request.after === 'last') {
        yield last;
        return;
      }
      if (request.after + 1 < firstPosition) {
        throw new StreamPositionGoneError('chat', 'room.1', firstPosition);
      }
      const upTo = last.position;
      await gate;
      yield* stored.filter((m) => m.position > (request.after as number) && m.position <= upTo);
    },
    onReconnect: () => {},
    isConnected: () => true,
    close: () => Promise.resolve(),
  };
  const deliver = (message: StoredMessage): void => {
    for (const { handlers, stream } of live) {
      handlers.onMessage(message.data, stream ? message.position : undefined);
    }
  };
  return {
    provider,
    replays,
    open: opened,
    expire: (first: number) => void (firstPosition = first),
    /** Holds reads of the last stored event until the returned function is called. */
    holdLast(): () => void {
      let release!: () => void;
      lastGate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    /** Stores a message and delivers it to the live subscriptions there are. */
    publish(id: string) {
      const message = { data: encode(id), position: stored.length + 1 };
      stored.push(message);
      deliver(message);
    },
    /** Delivers a stored message live again, as one still in flight when a client joins. */
    redeliver(position: number) {
      const message = stored[position - 1]!;
      deliver(message);
    },
    /** Stores a message the live subscription does not see (it was published before). */
    store(id: string) {
      stored.push({ data: encode(id), position: stored.length + 1 });
    },
  };
}

const spec: GroupSpec = {
  key: 'g',
  field: 'messageAdded',
  provider: 'default',
  stream: 'chat',
  validate: createEventValidator('messageAdded', new Map([['Message', ['id']]])),
  resolve: async (event) => ({ data: { messageAdded: { id: event['id'] } } }),
};

function recorder() {
  const received: { id: string; position: number | undefined }[] = [];
  const ended: GraphQLError[] = [];
  const subscriber: Subscriber = {
    push(serialize, cursor) {
      const result = JSON.parse(serialize()) as {
        data: { messageAdded: { id: string } };
        extensions?: { cursor?: string };
      };
      expect(result.extensions?.cursor).toBe(cursor);
      const position = cursor
        ? (decodeCursor(cursor, 'chat') as { sequence: number }).sequence
        : undefined;
      received.push({ id: result.data.messageAdded.id, position });
      return true;
    },
    end: (error) => void ended.push(error),
    tooSlow: () => undefined,
  };
  return { subscriber, received, ended, ids: () => received.map((r) => r.id) };
}

function hub(provider: EventProvider, options: Partial<EventHubOptions> = {}) {
  return new EventHub({
    providers: new Map([['default', provider]]),
    logger: pino({ level: 'silent' }),
    ...options,
  });
}

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
  it('gives members resuming together from one position one broker read, and each everything once', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b', 'c']) stream.store(id);
    const events = hub(stream.provider);
    const resumers = [recorder(), recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 1 });
    await flush();
    // Live events while the read waits: each resumer holds them in its backlog.
    stream.publish('d');
    stream.publish('e');
    stream.open();
    await flush();
    expect(stream.replays).toEqual([{ stream: 'chat', subject: 'room.1', after: 1 }]);
    for (const resumer of resumers) {
      expect(resumer.ids()).toEqual(['b', 'c', 'd', 'e']);
      expect(resumer.received.map((r) => r.position)).toEqual([2, 3, 4, 5]);
    }
    stream.publish('f');
    await flush();
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it('gives a crowd that comes a few per turn one broker read, as long as each turn brings more', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const resumers = Array.from({ length: 20 }, () => recorder());
    for (const [n, resumer] of resumers.entries()) {
      events.join('room.1', spec, resumer.subscriber, { after: 0 });
      if (n % 2 === 1) await nextTurn(); // two a turn, as RouterCore.turn starts a crowd
    }
    await flush();
    stream.open();
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['a', 'b']);
  });

  it('gives a LAST crowd that keeps joining one read, missing no live event that came meanwhile', async () => {
    const stream = fakeStream();
    stream.store('a');
    const events = hub(stream.provider);
    const first = recorder();
    events.join('room.1', spec, first.subscriber, 'last');
    for (const id of ['b', 'c', 'd']) {
      await nextTurn();
      events.join('room.1', spec, recorder().subscriber, 'last');
      stream.publish(id);
    }
    await flush();
    // The read finds 'd', after the subscription's start: the first starts from the live ones.
    expect(first.ids()).toEqual(['b', 'c', 'd']);
    expect(stream.replays).toHaveLength(1);
  });

  it('starts the read of a crowd that keeps coming after GATHER_TURNS turns', async () => {
    const stream = fakeStream();
    stream.store('a');
    const events = hub(stream.provider);
    const resumers = Array.from({ length: GATHER_TURNS + 10 }, () => recorder());
    let readAfter: number | undefined;
    for (const [turn, resumer] of resumers.entries()) {
      events.join('room.1', spec, resumer.subscriber, { after: 0 });
      await nextTurn();
      readAfter ??= stream.replays.length > 0 ? turn : undefined;
    }
    expect(readAfter).toBeGreaterThanOrEqual(GATHER_TURNS - 2);
    expect(readAfter).toBeLessThanOrEqual(GATHER_TURNS + 2);
    stream.open();
    await flush();
    await flush();
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['a']);
  });

  it('reads again for a member that comes once the shared read has started, missing nothing', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const early = [recorder(), recorder()];
    for (const resumer of early) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush(); // their read has found the last stored event and waits
    stream.publish('c'); // after that read's end: the early ones get it live
    const late = recorder();
    events.join('room.1', spec, late.subscriber, { after: 0 });
    await flush();
    stream.open();
    await flush();
    expect(stream.replays).toHaveLength(2);
    for (const resumer of [...early, late]) expect(resumer.ids()).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['more events', SHARED_READ_MAX_MESSAGES + 5, (n: number) => `m${n}`],
    ['more bytes', 3, (n: number) => `${'x'.repeat(SHARED_READ_MAX_BYTES / 2)}${n}`],
  ])(
    'lets each member read on its own a replay of %s than a shared read keeps, in order, none twice',
    async (_, count, id) => {
      const stream = fakeStream();
      for (let n = 1; n <= count; n++) stream.store(id(n));
      stream.open();
      const events = hub(stream.provider);
      const resumers = [recorder(), recorder()];
      for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
      await flush();
      await flush();
      expect(stream.replays).toHaveLength(3); // the shared read stopped, then one each
      const expected = Array.from({ length: count }, (_, i) => id(i + 1));
      for (const resumer of resumers) expect(resumer.ids()).toEqual(expected);
    },
  );

  it('fails every member of a shared read the broker breaks, and logs it once', async () => {
    const stream = fakeStream();
    stream.store('a');
    const broken: EventProvider = {
      ...stream.provider,
      async *replay(request) {
        stream.replays.push(request);
        throw new Error('consumer lost');
      },
    };
    const logged: string[] = [];
    const events = new EventHub({
      providers: new Map([['default', broken]]),
      logger: pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }),
    });
    const resumers = [recorder(), recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) {
      expect(resumer.ended.map((e) => e.extensions['code'])).toEqual(['SUBSCRIPTION_FAILED']);
    }
    expect(logged.filter((line) => line.includes('replaying stored events failed'))).toHaveLength(
      1,
    );
    expect(events.subscribers).toBe(0);
  });

  it('ends every member of a shared read whose position is gone with CURSOR_EXPIRED', async () => {
    const stream = fakeStream();
    stream.store('a');
    stream.store('b');
    stream.expire(2);
    const events = hub(stream.provider);
    const resumers = [recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) {
      expect(resumer.ended.map((e) => e.extensions['code'])).toEqual(['CURSOR_EXPIRED']);
    }
    expect(events.subscribers).toBe(0);
  });

  it('goes on for the others when a member of a shared read leaves', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const staying = recorder();
    const leaving = recorder();
    events.join('room.1', spec, staying.subscriber, { after: 0 });
    const leave = events.join('room.1', spec, leaving.subscriber, { after: 0 });
    await flush();
    leave();
    stream.open();
    await flush();
    expect(staying.ids()).toEqual(['a', 'b']);
    expect(leaving.ids()).toEqual([]);
    stream.publish('c');
    await flush();
    expect(staying.ids()).toEqual(['a', 'b', 'c']);
    expect(leaving.ids()).toEqual([]);
  });
});
