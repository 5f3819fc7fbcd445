/** The core under test with a fake broker and sinks: what core.test.ts and core-token.test.ts share. */
import { expect } from 'vitest';
import { GraphQLError, GraphQLSchema, type ExecutionResult } from 'graphql';
import { pino } from 'pino';
import {
  createCore,
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
export function fakeSink({ backedUp = true, withFailed = false } = {}) {
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
export async function isFinished(
  lifetime: AsyncIterableIterator<ExecutionResult>,
): Promise<boolean> {
  const next = lifetime.next().then((result) => result.done === true);
  return Promise.race([next, flush().then(() => false)]);
}

const message = (id: string): EntityEvent => ({ __typename: 'Message', id });
export const resultFor = (id: string, text: string): ExecutionResult => ({
  data: { messageAdded: { id, text } },
});
/** A large ASCII text, and the length of a result carrying it for an event with a 2-digit id. */
export const BIG = 'x'.repeat(1000);
export const BIG_SIZE = JSON.stringify(resultFor('10', BIG)).length;

type Limits = Pick<CoreOptions, 'slowSubscriberLimit' | 'slowSubscriberMaxBytes'>;

/**
 * A core over a real hub, with a fake broker and an executor that resolves each event at
 * once to `{ messageAdded: { id, text } }`.
 */
export function setup(limits: Limits = {}, text = 'x'.repeat(10)) {
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

export const ids = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => String(from + i));
export const idsOf = (results: ExecutionResult[]) =>
  results.map((r) => (r.data?.['messageAdded'] as { id: string }).id);
