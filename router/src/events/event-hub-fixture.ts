/**
 * For the EventHub unit tests (event-hub*.test.ts): a fake broker the test publishes on,
 * groups whose resolutions the test settles by hand, subscribers that record what they
 * get, and a hub on them.
 */
import { expect } from 'vitest';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { pino } from 'pino';
import { countInto, createCounters } from '../counters.js';
import { ProviderError } from '../errors.js';
import { fakeProvider } from '../providers/fake-provider.js';
import type { SubscriptionHandlers } from '../providers/provider.js';
import { createEventValidator, type EntityEvent } from './event.js';
import { EventHub, type EventHubOptions, type GroupSpec, type Subscriber } from './event-hub.js';

export const logger = pino({ level: 'silent' });
export const validate = createEventValidator('messageAdded', new Map([['Message', ['id']]]));

/** Lets every promise chain the hub started settle. */
export async function flush(): Promise<void> {
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
export function fakeBroker(id = 'default') {
  const subscriptions: FakeSubscription[] = [];
  const attempts: string[] = [];
  const reconnected: (() => void)[] = [];
  let refusing = false;
  const provider = fakeProvider({
    id,
    subscribe(subject, handlers) {
      attempts.push(subject);
      if (refusing) throw new ProviderError('permission denied', 'fake', subject);
      const subscription: FakeSubscription = { subject, handlers, unsubscribed: 0, ended: false };
      subscriptions.push(subscription);
      return { unsubscribe: () => void subscription.unsubscribed++ };
    },
    onReconnect: (listener) => void reconnected.push(listener),
  });
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

export const message = (id: string): EntityEvent => ({ __typename: 'Message', id });

interface Resolution {
  readonly event: EntityEvent;
  settle(): void;
  fail(error: Error): void;
}

/**
 * A group's `resolve` whose promises the test settles by hand. Each result counts its own
 * serializations (`toJSON`) in `serialized`, as `group:id`.
 */
export function gatedResolver(group: string) {
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
export function fakeSubscriber() {
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

export type Limits = Pick<
  EventHubOptions,
  'maxResolutionsInFlight' | 'maxPendingEventsPerGroup' | 'fanOutTurn'
>;

export function setup(limits: Limits = {}) {
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

export const codeOf = (error: GraphQLError | undefined) => error?.extensions['code'];
