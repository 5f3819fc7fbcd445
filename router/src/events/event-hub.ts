import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Counters } from '../counters.js';
import type { Logger } from '../logger.js';
import type { EventProvider, ProviderSubscription } from '../providers/provider.js';
import { parseEventPayload, type EntityEvent, type EventValidator } from './event.js';
import { ResolutionLimiter } from './resolution-limiter.js';

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

export interface EventHubOptions {
  provider: EventProvider;
  logger: Logger;
  counters: Counters;
  /**
   * Event resolutions (per group, per event) running at once across the router; more wait
   * their turn in arrival order. @default 512
   */
  maxResolutionsInFlight?: number;
  /**
   * Events one group may have received but not yet delivered (waiting for a place, being
   * resolved, or waiting for an earlier event). Past it, events for that group are dropped
   * and its subscribers get one `EVENTS_DROPPED` error. @default 1000
   */
  maxPendingEventsPerGroup?: number;
}

/**
 * Subscribes to each subject once, however many clients share it, fans every event out to
 * the groups on that subject, and releases the subject when its last client leaves.
 */
export class EventHub {
  readonly counters: Counters;
  readonly limiter: ResolutionLimiter;
  readonly maxPendingEventsPerGroup: number;
  readonly #triggers = new Map<string, Trigger>();
  readonly #provider: EventProvider;
  readonly #logger: Logger;

  constructor({
    provider,
    logger,
    counters,
    maxResolutionsInFlight = 512,
    maxPendingEventsPerGroup = 1000,
  }: EventHubOptions) {
    this.#provider = provider;
    this.#logger = logger;
    this.counters = counters;
    this.limiter = new ResolutionLimiter(maxResolutionsInFlight);
    this.maxPendingEventsPerGroup = maxPendingEventsPerGroup;
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

  /**
   * Adds a subscriber; the returned function removes it. If the broker refuses the
   * subscription, the subscriber is ended at once and nothing stays registered.
   */
  join(subject: string, spec: GroupSpec, subscriber: Subscriber): () => void {
    const trigger = this.#triggers.get(subject) ?? this.#subscribe(subject);
    if (!trigger) {
      subscriber.end(subscriptionFailed());
      return () => {};
    }
    return trigger.add(spec, subscriber);
  }

  /** @internal Called by a trigger whose last subscriber left. */
  release(trigger: Trigger): void {
    this.#drop(trigger);
    trigger.subscription.unsubscribe();
    this.#logger.debug({ subject: trigger.subject }, 'released subject');
  }

  /** @internal */
  invalidEvent(subject: string, error: GraphQLError): void {
    this.counters.eventsInvalid++;
    this.#logger.warn({ subject, reason: error.message }, 'invalid event');
  }

  /** @internal A group over `maxPendingEventsPerGroup` began dropping events. */
  droppingEvents(subject: string): void {
    this.#logger.warn(
      { subject, limit: this.maxPendingEventsPerGroup },
      'dropping events: a fan-out group has too many events waiting (maxPendingEventsPerGroup)',
    );
  }

  /** @internal A subscriber that did not keep up, already removed from its group. */
  slowSubscriber(subject: string, subscriber: Subscriber): void {
    this.counters.slowSubscriberCloses++;
    this.#logger.warn({ subject }, 'dropped a subscriber that did not keep up');
    subscriber.tooSlow();
  }

  /** @internal A resolution or a delivery failed unexpectedly. */
  failedDelivery(subject: string, error: unknown): void {
    this.#logger.error({ subject, err: error }, 'could not deliver an event');
  }

  #subscribe(subject: string): Trigger | undefined {
    let subscription: ProviderSubscription;
    let trigger: Trigger | undefined;
    try {
      subscription = this.#provider.subscribe(subject, {
        onMessage: (data) => trigger?.dispatch(data),
        onError: (error) => {
          this.#logger.error({ err: error, subject }, 'broker ended a subscription');
          if (!trigger) return;
          this.#drop(trigger);
          trigger.endAll(subscriptionFailed());
        },
      });
    } catch (error) {
      this.#logger.error({ err: error, subject }, 'broker refused a subscription');
      return undefined;
    }
    trigger = new Trigger(subject, subscription, this);
    this.#triggers.set(subject, trigger);
    this.#logger.debug({ subject }, 'subscribed to subject');
    return trigger;
  }

  #drop(trigger: Trigger): void {
    if (this.#triggers.get(trigger.subject) === trigger) this.#triggers.delete(trigger.subject);
  }
}

function unexpected(): GraphQLError {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

function subscriptionFailed(): GraphQLError {
  return new GraphQLError('The event stream for this subscription failed.', {
    extensions: { code: 'SUBSCRIPTION_FAILED' },
  });
}

/** One subject: its broker subscription and the groups that listen on it. */
class Trigger {
  readonly #groups = new Map<string, Group>();
  /** Events received so far; a subscriber gets only events numbered after its joining. */
  #received = 0;

  constructor(
    readonly subject: string,
    readonly subscription: ProviderSubscription,
    private readonly hub: EventHub,
  ) {}

  get subscribers(): number {
    let count = 0;
    for (const group of this.#groups.values()) count += group.members.size;
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
      if (!joined.members.delete(subscriber) || joined.members.size > 0) return;
      if (this.#groups.get(spec.key) === joined) this.#groups.delete(spec.key);
      if (this.#groups.size === 0) this.hub.release(this);
    };
    joined.members.set(subscriber, { leave, joinedAfter: this.#received });
    return leave;
  }

  dispatch(data: Uint8Array): void {
    this.hub.counters.eventsReceived++;
    const sequence = ++this.#received;
    const payload = parseEventPayload(data);
    let invalid: GraphQLError | undefined;
    for (const group of this.#groups.values()) {
      const event = payload instanceof GraphQLError ? payload : group.spec.validate(payload);
      if (event instanceof GraphQLError) invalid ??= event;
      group.dispatch(event, sequence);
    }
    if (invalid) this.hub.invalidEvent(this.subject, invalid);
  }

  /** Ends every subscriber; results still being resolved reach nobody. */
  endAll(error: GraphQLError): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) {
      const members = [...group.members.keys()];
      group.members.clear();
      for (const subscriber of members) subscriber.end(error);
    }
  }
}

interface Membership {
  /** Removes the subscriber from its group. */
  readonly leave: () => void;
  /** The number of the last event received before it joined. */
  readonly joinedAfter: number;
}

class Group {
  readonly members = new Map<Subscriber, Membership>();
  /** Resolutions run concurrently but are delivered in the order the events came. */
  #delivered: Promise<void> = Promise.resolve();
  /** Events received and not yet delivered. */
  #pending = 0;
  #dropping = false;

  constructor(
    readonly spec: GroupSpec,
    private readonly subject: string,
    private readonly hub: EventHub,
  ) {}

  dispatch(event: EntityEvent | GraphQLError, sequence: number): void {
    if (this.#pending >= this.hub.maxPendingEventsPerGroup) return this.#drop(sequence);
    this.#dropping = false;
    this.#pending++;
    // A resolution that fails is answered where it is made: waiting for its turn in the
    // delivery chain would leave its rejection unhandled meanwhile, which ends the process.
    const result: Promise<ExecutionResult> =
      event instanceof GraphQLError
        ? Promise.resolve({ errors: [event] })
        : this.hub.limiter
            .run(() => this.spec.resolve(event))
            .catch((error: unknown) => {
              this.hub.failedDelivery(this.subject, error);
              return { errors: [unexpected()] };
            });
    this.#deliver(sequence, result).finally(() => this.#pending--);
  }

  /** Drops an event; the first of a run of drops tells the subscribers, in order. */
  #drop(sequence: number): void {
    this.hub.counters.eventsDropped++;
    if (this.#dropping) return;
    this.#dropping = true;
    this.hub.droppingEvents(this.subject);
    const error = new GraphQLError(
      'Events for this subscription were dropped: the router could not resolve them as fast as they came.',
      { extensions: { code: 'EVENTS_DROPPED' } },
    );
    void this.#deliver(sequence, Promise.resolve({ errors: [error] }));
  }

  #deliver(sequence: number, result: Promise<ExecutionResult>): Promise<void> {
    this.#delivered = this.#delivered
      .then(() => result)
      .then((value) => {
        const serialize = serializeOnce(value);
        for (const [subscriber, { leave, joinedAfter }] of this.members) {
          if (joinedAfter >= sequence) continue;
          if (subscriber.push(serialize)) {
            this.hub.counters.deliveries++;
          } else {
            leave();
            this.hub.slowSubscriber(this.subject, subscriber);
          }
        }
      })
      .catch((error: unknown) => this.hub.failedDelivery(this.subject, error));
    return this.#delivered;
  }
}

function serializeOnce(result: ExecutionResult): () => string {
  let json: string | undefined;
  return () => (json ??= JSON.stringify(result));
}
