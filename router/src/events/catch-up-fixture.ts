/**
 * For the catch-up unit tests (catch-up*.test.ts): a fake stream provider the test feeds,
 * an example group, a subscriber that records what it gets, and a hub on them.
 */
import { expect } from 'vitest';
import type { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { StreamPositionGoneError } from '../errors.js';
import { fakeProvider } from '../providers/fake-provider.js';
import type {
  EventProvider,
  ReplayRequest,
  StoredMessage,
  SubscriptionHandlers,
} from '../providers/provider.js';
import { decodeCursor } from './cursor.js';
import { createEventValidator } from './event.js';
import { EventHub, type EventHubOptions, type GroupSpec, type Subscriber } from './event-hub.js';

const encode = (id: string) =>
  new TextEncoder().encode(JSON.stringify({ __typename: 'Message', id }));

/** Lets every promise chain the hub started settle. */
export async function flush(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A stream of its own: stored messages by position, live subscriptions the test feeds (on
 * the stream, or core ones that get no positions and say nothing of where they start),
 * and a replay that waits at `gate` before it yields, so the test can publish meanwhile.
 */
export function fakeStream() {
  const stored: StoredMessage[] = [];
  const live = new Set<{ handlers: SubscriptionHandlers; stream: boolean }>();
  let opened!: () => void;
  const gate = new Promise<void>((resolve) => (opened = resolve));
  const replays: ReplayRequest[] = [];
  let firstPosition = 1;
  /** Where a read of the last stored event waits before it looks (`holdLast`). */
  let lastGate: Promise<void> | undefined;
  const provider = fakeProvider({
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
        throw new StreamPositionGoneError('chat', 'room.1', request.after);
      }
      const upTo = last.position;
      await gate;
      yield* stored.filter((m) => m.position > (request.after as number) && m.position <= upTo);
    },
  });
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

export const spec: GroupSpec = {
  key: 'g',
  field: 'messageAdded',
  provider: 'default',
  stream: 'chat',
  validate: createEventValidator('messageAdded', new Map([['Message', ['id']]])),
  resolve: async (event) => ({ data: { messageAdded: { id: event['id'] } } }),
};

export function recorder() {
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

export function hub(provider: EventProvider, options: Partial<EventHubOptions> = {}) {
  return new EventHub({
    providers: new Map([['default', provider]]),
    logger: pino({ level: 'silent' }),
    ...options,
  });
}
