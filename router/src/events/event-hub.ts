import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Counters } from '../counters.js';
import type { Logger } from '../logger.js';
import type { EventProvider, ProviderSubscription } from '../providers/provider.js';
import { parseEventPayload, type EntityEvent, type EventValidator } from './event.js';

/** One client's end of a subscription. */
export interface Subscriber {
  /**
   * Takes the next result, serialized on demand and at most once for the whole group;
   * `false` means the subscriber is over its bound and must be dropped.
   */
  push(serialize: () => string): boolean;
  /** The subscription cannot go on; the subscriber has been removed. */
  end(error: GraphQLError): void;
  /** The subscriber fell too far behind and has been removed. */
  tooSlow(): void;
}

/** Subscribers with the same operation and variables: one resolution per event serves all. */
export interface GroupSpec {
  readonly key: string;
  readonly validate: EventValidator;
  resolve(event: EntityEvent): Promise<ExecutionResult>;
}

/**
 * Subscribes to each subject once, however many clients share it, fans every event out to
 * the groups on that subject, and releases the subject when its last client leaves.
 */
export class EventHub {
  readonly counters: Counters;
  readonly #triggers = new Map<string, Trigger>();
  readonly #provider: EventProvider;
  readonly #logger: Logger;

  constructor(provider: EventProvider, logger: Logger, counters: Counters) {
    this.#provider = provider;
    this.#logger = logger;
    this.counters = counters;
  }

  /** Subjects with a broker subscription now. */
  get subjects(): number {
    return this.#triggers.size;
  }

  /** Fan-out groups now: distinct operation and variables per subject (counted on each read). */
  get groups(): number {
    let count = 0;
    for (const trigger of this.#triggers.values()) count += trigger.groups;
    return count;
  }

  /** Subscribers joined now, across all subjects (counted on each read). */
  get subscribers(): number {
    let count = 0;
    for (const trigger of this.#triggers.values()) count += trigger.subscribers;
    return count;
  }

  /** Adds a subscriber; the returned function removes it. */
  join(subject: string, spec: GroupSpec, subscriber: Subscriber): () => void {
    let trigger = this.#triggers.get(subject);
    if (!trigger) {
      trigger = new Trigger(subject, this);
      this.#triggers.set(subject, trigger);
      const current = trigger;
      current.subscription = this.#provider.subscribe(subject, {
        onMessage: (data) => current.dispatch(data),
        onError: (error) => {
          this.#logger.error({ err: error, subject }, 'broker ended a subscription');
          this.#drop(current);
          current.endAll(
            new GraphQLError('The event stream for this subscription failed.', {
              extensions: { code: 'SUBSCRIPTION_FAILED' },
            }),
          );
        },
      });
      this.#logger.debug({ subject }, 'subscribed to subject');
    }
    return trigger.add(spec, subscriber);
  }

  /** @internal Called by a trigger whose last subscriber left. */
  release(trigger: Trigger): void {
    this.#drop(trigger);
    trigger.subscription?.unsubscribe();
    this.#logger.debug({ subject: trigger.subject }, 'released subject');
  }

  /** @internal */
  invalidEvent(subject: string, error: GraphQLError): void {
    this.counters.eventsInvalid++;
    this.#logger.warn({ subject, reason: error.message }, 'invalid event');
  }

  /** @internal A subscriber that did not keep up, already removed from its group. */
  slowSubscriber(subject: string, subscriber: Subscriber): void {
    this.counters.slowSubscriberCloses++;
    this.#logger.warn({ subject }, 'dropped a subscriber that did not keep up');
    subscriber.tooSlow();
  }

  /** @internal */
  failedDelivery(subject: string, error: unknown): void {
    this.#logger.error({ subject, err: error }, 'could not deliver an event');
  }

  #drop(trigger: Trigger): void {
    if (this.#triggers.get(trigger.subject) === trigger) this.#triggers.delete(trigger.subject);
  }
}

class Trigger {
  subscription: ProviderSubscription | undefined;
  readonly #groups = new Map<string, Group>();

  constructor(
    readonly subject: string,
    private readonly hub: EventHub,
  ) {}

  get subscribers(): number {
    let count = 0;
    for (const group of this.#groups.values()) count += group.subscribers.size;
    return count;
  }

  get groups(): number {
    return this.#groups.size;
  }

  add(spec: GroupSpec, subscriber: Subscriber): () => void {
    let group = this.#groups.get(spec.key);
    if (!group) {
      group = new Group(spec, this.subject, this.hub);
      this.#groups.set(spec.key, group);
    }
    const joined = group;
    const leave = (): void => {
      if (!joined.subscribers.delete(subscriber) || joined.subscribers.size > 0) return;
      this.#groups.delete(spec.key);
      if (this.#groups.size === 0) this.hub.release(this);
    };
    joined.subscribers.set(subscriber, leave);
    return leave;
  }

  dispatch(data: Uint8Array): void {
    this.hub.counters.eventsReceived++;
    const payload = parseEventPayload(data);
    let invalid: GraphQLError | undefined;
    for (const group of this.#groups.values()) {
      const event = payload instanceof GraphQLError ? payload : group.spec.validate(payload);
      if (event instanceof GraphQLError) invalid ??= event;
      group.dispatch(event);
    }
    if (invalid) this.hub.invalidEvent(this.subject, invalid);
  }

  endAll(error: GraphQLError): void {
    for (const group of this.#groups.values()) {
      for (const subscriber of group.subscribers.keys()) subscriber.end(error);
    }
    this.#groups.clear();
  }
}

class Group {
  /** Each subscriber with the function that removes it. */
  readonly subscribers = new Map<Subscriber, () => void>();
  /** Resolutions run concurrently but are delivered in the order the events came. */
  #delivered: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: GroupSpec,
    private readonly subject: string,
    private readonly hub: EventHub,
  ) {}

  dispatch(event: EntityEvent | GraphQLError): void {
    const result: Promise<ExecutionResult> =
      event instanceof GraphQLError
        ? Promise.resolve({ errors: [event] })
        : this.spec.resolve(event);
    this.#delivered = this.#delivered
      .then(() => result)
      .then((value) => {
        const serialize = serializeOnce(value);
        for (const [subscriber, leave] of this.subscribers) {
          if (subscriber.push(serialize)) {
            this.hub.counters.deliveries++;
          } else {
            leave();
            this.hub.slowSubscriber(this.subject, subscriber);
          }
        }
      })
      .catch((error: unknown) => this.hub.failedDelivery(this.subject, error));
  }
}

function serializeOnce(result: ExecutionResult): () => string {
  let json: string | undefined;
  return () => (json ??= JSON.stringify(result));
}
