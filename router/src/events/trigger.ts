import { GraphQLError } from 'graphql';
import type { FieldInstrumentation } from '../instrumentation.js';
import type {
  EventProvider,
  ProviderSubscription,
  SubscriptionHandlers,
} from '../providers/provider.js';
import type { ProviderError } from '../errors.js';
import { parseEventPayload } from './event.js';
import type { EventHub } from './event-hub.js';
import type { Group } from './fan-out-group.js';
import type { Delivery, Membership, Subscriber } from './subscriber.js';

/**
 * One broker subscription per provider, subject and stream: a core field and a stream field
 * on one subject read different things (positions are counts on one, sequences on the other).
 */
export function triggerKey(
  provider: EventProvider,
  subject: string,
  stream: string | undefined,
): string {
  return `${provider.id}\u0000${stream ?? ''}\u0000${subject}`;
}

export function subscriptionFailed(): GraphQLError {
  return new GraphQLError('The event stream for this subscription failed.', {
    extensions: { code: 'SUBSCRIPTION_FAILED' },
  });
}

/**
 * One subject: its broker subscription and the groups that listen on it. It is the broker's
 * handlers too, as methods: one of these per subject, so no closures per subject.
 */
export class Trigger implements SubscriptionHandlers {
  readonly groups = new Map<string, Group>();
  /**
   * The position of the last event received: the stream sequence for a stream, a count
   * otherwise. A subscriber gets only events after the position at which it joined.
   */
  lastPosition = 0;
  /**
   * For a stream, the position of the first message the broker's subscription delivers,
   * once it is ready (`onReady`); until then, or if the broker did not say, not known.
   */
  liveFrom = Number.POSITIVE_INFINITY;
  /** Settles once the broker delivers every message published from then on. */
  readonly ready: Promise<void>;
  #ready!: () => void;
  /** Set once the provider has taken the subscription; until then messages are not ours. */
  subscription: ProviderSubscription | undefined;

  constructor(
    readonly provider: EventProvider,
    readonly subject: string,
    readonly stream: string | undefined,
    readonly instruments: FieldInstrumentation,
    private readonly hub: EventHub,
  ) {
    this.ready = new Promise<void>((resolve) => (this.#ready = resolve));
  }

  onMessage(data: Uint8Array, position?: number): void {
    if (!this.subscription) return;
    // Nothing thrown here may reach the broker client: nats.js would stop reading (every
    // subject, or the stream's consumer), ioredis would crash the process.
    try {
      this.dispatch(data, position);
    } catch (err) {
      const { provider, subject } = this;
      this.hub.logger.error({ err, provider: provider.id, subject }, 'could not dispatch an event');
    }
  }

  onReady(from?: number): void {
    if (from !== undefined) this.liveFrom = from;
    this.#ready();
  }

  onError(error: ProviderError): void {
    const { hub, provider, subject } = this;
    hub.logger.error({ err: error, provider: provider.id, subject }, 'broker ended a subscription');
    this.#ready(); // nothing waits for a subscription that has ended
    if (!this.subscription) return;
    hub.dropped(this);
    this.endAll(subscriptionFailed());
  }

  /** Its last group is gone: the broker subscription goes too. */
  release(): void {
    this.hub.dropped(this);
    this.subscription?.unsubscribe();
    this.hub.logger.debug(
      { provider: this.provider.id, subject: this.subject },
      'released subject',
    );
  }

  dispatch(data: Uint8Array, position?: number): void {
    const received = performance.now();
    this.instruments.eventReceived();
    this.lastPosition = position ?? this.lastPosition + 1;
    const payload = parseEventPayload(data);
    let invalid: GraphQLError | undefined;
    for (const group of this.groups.values()) {
      const event = payload instanceof GraphQLError ? payload : group.spec.validate(payload);
      if (event instanceof GraphQLError) invalid ??= event;
      group.dispatch(event, this.lastPosition, received);
    }
    if (invalid) this.hub.invalidEvent(this.subject, invalid, this.instruments);
  }

  /** Ends every subscriber; results still being resolved reach nobody. */
  endAll(error: GraphQLError): void {
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const group of groups) {
      const members = [...group.members.keys()];
      group.members.clear();
      for (const subscriber of members) subscriber.end(error);
    }
  }
}

/**
 * How one subscriber stands in its group, and how it leaves: one per subscriber, so
 * leaving is a method rather than a closure made for each.
 */
export class Member implements Membership {
  after: number;
  readonly joined: number;
  /** The position of the last event its subject had received when it joined (0: none). */
  readonly #joinedAfter: number;
  declare backlog?: Delivery[];

  constructor(
    private readonly trigger: Trigger,
    private readonly group: Group,
    private readonly key: string,
    private readonly subscriber: Subscriber,
    held: boolean,
  ) {
    this.#joinedAfter = trigger.lastPosition;
    this.joined = group.join();
    if (held) {
      this.after = Number.POSITIVE_INFINITY;
      this.backlog = [];
    } else this.after = trigger.lastPosition;
  }

  get liveAfter(): number {
    // An event received before it joined: the subscription delivers every later one.
    return this.#joinedAfter > 0 ? this.#joinedAfter : this.trigger.liveFrom - 1;
  }

  leave(): void {
    const { trigger, group, key } = this;
    if (!group.members.delete(this.subscriber) || group.members.size > 0) return;
    if (trigger.groups.get(key) === group) trigger.groups.delete(key);
    if (trigger.groups.size === 0) trigger.release();
  }
}
