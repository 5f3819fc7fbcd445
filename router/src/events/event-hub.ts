import { GraphQLError } from 'graphql';
import {
  noopInstrumentation,
  type FieldInstrumentation,
  type Instrumentation,
} from '../instrumentation.js';
import { LogBudget } from '../log-budget.js';
import type { Logger } from '../logger.js';
import type { EventProvider } from '../providers/provider.js';
import { catchUp } from './catch-up.js';
import { Group, type GroupSpec } from './fan-out-group.js';
import type { Membership, Subscriber } from './subscriber.js';
import { ResolutionLimiter } from './resolution-limiter.js';
import { Member, subscriptionFailed, Trigger, triggerKey } from './trigger.js';

export type { GroupSpec } from './fan-out-group.js';
export type { Subscriber } from './subscriber.js';

/** Where a stream-backed subscription starts: after a position, or at the last stored event. */
export type StartFrom = { readonly after: number } | 'last';

export interface EventHubOptions {
  /** The brokers by id; a field's `GroupSpec.provider` names its own. */
  providers: ReadonlyMap<string, EventProvider>;
  logger: Logger;
  /** Where events received, delivered, dropped… are reported. @default nothing is reported */
  instrumentation?: Instrumentation;
  /**
   * Event resolutions (per group, per event) running at once across the router; more wait
   * their turn in arrival order. @default 512
   */
  maxResolutionsInFlight?: number;
  /**
   * Resolutions of stored events for subscribers catching up, at once across the router;
   * kept apart from live ones, so a crowd resuming never delays live events. @default 64
   */
  maxReplayResolutionsInFlight?: number;
  /**
   * Replays (each a short-lived consumer on the broker) running at once for subscribers
   * catching up; more wait their turn in arrival order. @default 64
   */
  maxReplaysInFlight?: number;
  /**
   * How long a subscriber catching up may go without room for results (it stopped reading)
   * while its replay holds a place under `maxReplaysInFlight` and a broker consumer, which
   * other resuming clients wait for: then it is dropped as too slow. Room comes back only
   * once a whole backed-up write has gone out (up to half of `slowSubscriberMaxBytes`), so
   * this leaves a slow but reading client time for that. @default 60000
   */
  replayStallMs?: number;
  /**
   * Events one group may have received but not yet delivered (waiting for a place, being
   * resolved, or waiting for an earlier event), and live events one catching-up subscriber
   * may have waiting. Past it, the group drops events and its subscribers get one
   * `EVENTS_DROPPED` error; the catching-up subscriber is dropped as too slow. @default 1000
   */
  maxPendingEventsPerGroup?: number;
  /**
   * Deliveries (members × results) a group's fan-out makes before it lets I/O in: subgraph
   * answers and broker messages wait less, and the sockets written so far flush. @default 2048
   */
  fanOutTurn?: number;
}

/**
 * Subscribes to each subject once, however many clients share it, fans every event out to
 * the groups on that subject, and releases the subject when its last client leaves. A
 * subscriber of a stream-backed field may start from a position: it catches up on the
 * stored events privately, then joins the live group without a gap or a duplicate.
 */
export class EventHub {
  readonly instrumentation: Instrumentation;
  readonly limiter: ResolutionLimiter;
  readonly replayLimiter: ResolutionLimiter;
  /** Replays running at once. */
  readonly replays: ResolutionLimiter;
  readonly replayStallMs: number;
  readonly maxPendingEventsPerGroup: number;
  readonly fanOutTurn: number;
  readonly providers: ReadonlyMap<string, EventProvider>;
  readonly logger: Logger;
  /** Publishers decide how many invalid events there are; the log takes a few per interval. */
  readonly #logBudget = new LogBudget();
  /** By provider id and subject: the same subject on two brokers is two triggers. */
  readonly #triggers = new Map<string, Trigger>();

  constructor({
    providers,
    logger,
    instrumentation = noopInstrumentation,
    maxResolutionsInFlight = 512,
    maxReplayResolutionsInFlight = 64,
    maxReplaysInFlight = 64,
    replayStallMs = 60_000,
    maxPendingEventsPerGroup = 1000,
    fanOutTurn = 2048,
  }: EventHubOptions) {
    if (!Number.isInteger(fanOutTurn) || fanOutTurn < 1) {
      throw new RangeError(`fanOutTurn must be a positive integer, got ${fanOutTurn}`);
    }
    this.providers = providers;
    this.logger = logger;
    this.instrumentation = instrumentation;
    this.limiter = new ResolutionLimiter(maxResolutionsInFlight);
    this.replayLimiter = new ResolutionLimiter(maxReplayResolutionsInFlight);
    this.replays = new ResolutionLimiter(maxReplaysInFlight);
    this.replayStallMs = replayStallMs;
    this.maxPendingEventsPerGroup = maxPendingEventsPerGroup;
    this.fanOutTurn = fanOutTurn;
    for (const provider of providers.values()) {
      provider.onReconnect(() => this.#reconnected(provider));
    }
  }

  /** Subjects with a broker subscription now. */
  get subjects(): number {
    return this.#triggers.size;
  }

  /** Fan-out groups now: distinct operation and variables per subject (counted on each read). */
  get groups(): number {
    let count = 0;
    for (const trigger of this.#triggers.values()) count += trigger.groups.size;
    return count;
  }

  /** Subscribers joined now, across all subjects (counted on each read). */
  get subscribers(): number {
    let count = 0;
    for (const trigger of this.#triggers.values()) {
      for (const group of trigger.groups.values()) count += group.members.size;
    }
    return count;
  }

  /**
   * Adds a subscriber; the returned function removes it. If the broker refuses the
   * subscription, the subscriber is ended at once and nothing stays registered. With
   * `start` (stream-backed fields only), it first gets the stored events from there.
   */
  join(subject: string, spec: GroupSpec, subscriber: Subscriber, start?: StartFrom): () => void {
    const provider = this.providers.get(spec.provider);
    if (!provider) throw new Error(`no provider "${spec.provider}"`); // bound fields name theirs
    const trigger =
      this.#triggers.get(triggerKey(provider, subject, spec.stream)) ??
      this.#subscribe(provider, subject, spec.stream, spec.field);
    if (!trigger) {
      subscriber.end(subscriptionFailed());
      return () => {};
    }
    const catchingUp = start !== undefined && spec.stream !== undefined;
    const { group, membership } = this.#enter(trigger, spec, subscriber, catchingUp);
    if (catchingUp) {
      catchUp(this, {
        ready: trigger.ready,
        group,
        subscriber,
        membership,
        stream: spec.stream!,
        start: start!,
      }).catch((error: unknown) => this.failedDelivery(subject, error));
    }
    return () => membership.leave();
  }

  /**
   * Moves a subscriber from its group on `subject` (the one keyed `from`) to the group of
   * `to`, without a gap or a duplicate: it joins the new group with the events it gets
   * there held back, the old group delivers what it had received, and then the held events
   * that came after those go. Returns its new `leave`; `undefined` (and it stays where it
   * is) while it catches up on stored events, or if it is not there.
   */
  move(
    subject: string,
    from: string,
    to: GroupSpec,
    subscriber: Subscriber,
  ): (() => void) | undefined {
    const provider = this.providers.get(to.provider);
    const trigger = provider && this.#triggers.get(triggerKey(provider, subject, to.stream));
    const old = trigger?.groups.get(from);
    const before = old?.members.get(subscriber);
    if (!trigger || !old || !before || before.backlog) return undefined;
    const { group, membership } = this.#enter(trigger, to, subscriber, true);
    old
      .settled()
      .then(() => {
        if (old.members.get(subscriber) !== before) return membership.leave(); // it ended there
        if (group.members.get(subscriber) !== membership) return before.leave(); // or here
        before.leave();
        group.handOver(subscriber, membership, before.after);
      })
      .catch((error: unknown) => this.failedDelivery(subject, error));
    return () => {
      before.leave();
      membership.leave();
    };
  }

  /** Puts a subscriber in the group of `spec` on a trigger; `held`: its events wait in a backlog. */
  #enter(
    trigger: Trigger,
    spec: GroupSpec,
    subscriber: Subscriber,
    held: boolean,
  ): { group: Group; membership: Membership } {
    let group = trigger.groups.get(spec.key);
    if (!group) {
      group = new Group(spec, trigger.subject, this);
      trigger.groups.set(spec.key, group);
    }
    const membership = new Member(trigger, group, spec.key, subscriber, held);
    group.members.set(subscriber, membership);
    return { group, membership };
  }

  /** @internal */
  invalidEvent(subject: string, error: GraphQLError, instruments: FieldInstrumentation): void {
    instruments.eventInvalid();
    this.#logBudget.warn(this.logger, { subject, reason: error.message }, 'invalid event');
  }

  /** @internal A group over `maxPendingEventsPerGroup` began dropping events. */
  droppingEvents(subject: string): void {
    this.logger.warn(
      { subject, limit: this.maxPendingEventsPerGroup },
      'dropping events: a fan-out group has too many events waiting (maxPendingEventsPerGroup)',
    );
  }

  /** @internal A subscriber that did not keep up, already removed from its group. */
  slowSubscriber(group: Group, subscriber: Subscriber): void {
    group.instruments.slowSubscriberClosed();
    this.logger.warn({ subject: group.subject }, 'dropped a subscriber that did not keep up');
    subscriber.tooSlow();
  }

  /** @internal A resolution or a delivery failed unexpectedly. */
  failedDelivery(subject: string, error: unknown): void {
    this.logger.error({ subject, err: error }, 'could not deliver an event');
  }

  #subscribe(
    provider: EventProvider,
    subject: string,
    stream: string | undefined,
    field: string,
  ): Trigger | undefined {
    // A subject shared by two fields counts its events under the field that opened it.
    const instruments = this.instrumentation.field(field);
    const trigger = new Trigger(provider, subject, stream, instruments, this);
    try {
      trigger.subscription = provider.subscribe(subject, trigger, { stream });
    } catch (error) {
      this.logger.error(
        { err: error, provider: provider.id, subject },
        'broker refused a subscription',
      );
      return undefined;
    }
    this.#triggers.set(triggerKey(provider, subject, stream), trigger);
    this.logger.debug({ provider: provider.id, subject, stream }, 'subscribed to subject');
    return trigger;
  }

  /** @internal The trigger's broker subscription ended or was released. */
  dropped(trigger: Trigger): void {
    const key = triggerKey(trigger.provider, trigger.subject, trigger.stream);
    if (this.#triggers.get(key) === trigger) this.#triggers.delete(key);
  }

  /**
   * Live subjects of `provider` lost whatever was published while its connection was down
   * (core NATS, Redis and AMQP deliver at most once): say so to their subscribers only.
   */
  #reconnected(provider: EventProvider): void {
    const missed = new GraphQLError(
      'The router lost its connection to the broker for a while: events published meanwhile were not delivered.',
      { extensions: { code: 'EVENTS_MISSED' } },
    );
    for (const trigger of this.#triggers.values()) {
      if (trigger.provider !== provider) continue;
      if (trigger.stream !== undefined) continue; // streams resume where they stopped
      trigger.instruments.eventGap();
      for (const group of trigger.groups.values()) group.notice(missed);
    }
  }
}
