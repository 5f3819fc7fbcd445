import { GraphQLError, type ExecutionResult } from 'graphql';
import { encodeCursor } from './cursor.js';
import type { EntityEvent, EventValidator } from './event.js';
import type { EventHub } from './event-hub.js';
import {
  noopTrace,
  secondsSince,
  type FieldInstrumentation,
  type Trace,
} from '../instrumentation.js';

/** One client's end of a subscription. */
export interface Subscriber {
  /**
   * Takes the next result, serialized on demand and at most once for the whole group, with
   * its cursor for stream-backed fields; `false` means the subscriber is over its bound and
   * must be dropped.
   */
  push(serialize: () => string, cursor: string | undefined): boolean;
  /**
   * Settles when the subscriber has room for more results (`undefined`: it has room now),
   * so a replay goes at the pace of its connection instead of piling results up.
   */
  writable?(): Promise<void> | undefined;
  /** The subscription cannot go on; the subscriber has been removed. */
  end(error: GraphQLError): void;
  /** The subscriber fell too far behind and has been removed. */
  tooSlow(): void;
}

/** Subscribers with the same operation and variables: one resolution per event serves all. */
export interface GroupSpec {
  readonly key: string;
  /** The `Subscription` field, for instrumentation. */
  readonly field: string;
  /** The id of the provider the field's subjects are on. */
  readonly provider: string;
  /** The stream the subject is read from; its results then carry cursors. */
  readonly stream?: string | undefined;
  readonly validate: EventValidator;
  /**
   * Resolves one event, its fetches traced under `trace` (the resolution's span);
   * `undefined` when the result is not for this group (its `@eventsFilter` does not match).
   */
  resolve(event: EntityEvent, trace: Trace): Promise<ExecutionResult | undefined>;
}

/** A result ready for subscribers: serialized once, on demand, with its cursor. */
export interface Delivery {
  readonly position: number;
  readonly serialize: () => string;
  readonly cursor: string | undefined;
}

/** How one subscriber stands in its group. */
export interface Membership {
  /** Removes the subscriber from its group. */
  leave(): void;
  /**
   * It gets only events at later positions: those before it joined, caught up on, or
   * already given to it are not its (a backlogged member's is set when it catches up).
   */
  after: number;
  /** While it catches up on stored events, the live ones wait here for it. */
  backlog?: Delivery[];
}

/**
 * One fan-out group: resolves each event once, concurrently with the next ones, and hands
 * the results to every member in the order the events came.
 */
export class Group {
  readonly members = new Map<Subscriber, Membership>();
  /** Resolved once per group, so no event looks up a label. */
  readonly instruments: FieldInstrumentation;
  /** Resolutions run concurrently but are delivered in the order the events came. */
  #delivered: Promise<void> = Promise.resolve();
  /** Events received and not yet delivered. */
  #pending = 0;
  #dropping = false;
  /**
   * Deliveries of stored events, by position, shared by the members catching up; made when
   * the first replays, since most groups never have one.
   */
  #replayed: Map<number, Promise<Delivery | undefined>> | undefined;

  constructor(
    readonly spec: GroupSpec,
    readonly subject: string,
    private readonly hub: EventHub,
  ) {
    this.instruments = hub.instrumentation.field(spec.field);
  }

  /** `received`: when the event arrived (`performance.now()`), for the delivery latency. */
  dispatch(event: EntityEvent | GraphQLError, position: number, received: number): void {
    if (this.#pending >= this.hub.maxPendingEventsPerGroup) return this.#drop();
    this.#dropping = false;
    this.#pending++;
    this.#deliver(position, this.resolve(event), received).finally(() => this.#pending--);
  }

  /** Tells every member something that is not an event (e.g. events may have been missed). */
  notice(error: GraphQLError): void {
    void this.#deliver(NOTICE, Promise.resolve({ errors: [error] }));
  }

  /**
   * A stored event's delivery for members catching up, resolved and serialized once however
   * many of them replay it (they all resume from about the same place after a router
   * restart), through the replay limiter so that live events never wait behind replays.
   */
  replayed(
    position: number,
    event: () => EntityEvent | GraphQLError,
  ): Promise<Delivery | undefined> {
    const replayed = (this.#replayed ??= new Map());
    let delivery = replayed.get(position);
    if (!delivery) {
      delivery = this.resolve(event(), this.hub.replayLimiter).then(
        (result) => result && this.delivery(result, position),
      );
      replayed.set(position, delivery);
      if (replayed.size > this.hub.maxPendingEventsPerGroup) {
        replayed.delete(replayed.keys().next().value!);
      }
    }
    return delivery;
  }

  /** A member finished catching up: once none is left, the replayed results go. */
  caughtUp(): void {
    if (![...this.members.values()].some((m) => m.backlog)) this.#replayed = undefined;
  }

  /**
   * A result for an event, resolved through `limiter` (`undefined`: filtered out); never
   * rejects.
   */
  resolve(
    event: EntityEvent | GraphQLError,
    limiter = this.hub.limiter,
  ): Promise<ExecutionResult | undefined> {
    if (event instanceof GraphQLError) return Promise.resolve({ errors: [event] });
    // A resolution that fails is answered where it is made: waiting for its turn in the
    // delivery chain would leave its rejection unhandled meanwhile, which ends the process.
    return limiter
      .run(() => {
        // Sampled by the tracer: at full rate, a span per group and event costs more than the event.
        const trace = this.instruments.resolutionStarted();
        if (trace === noopTrace) return this.spec.resolve(event, trace);
        return this.spec.resolve(event, trace).then(
          (result) => {
            const outcome = !result ? 'filtered' : result.errors?.length ? 'errors' : 'ok';
            trace.annotate({ 'edfs.outcome': outcome });
            trace.end();
            return result;
          },
          (error: unknown) => {
            trace.end(true);
            throw error;
          },
        );
      })
      .catch((error: unknown) => {
        this.hub.failedDelivery(this.subject, error);
        return { errors: [unexpected()] };
      });
  }

  /** The delivery of a result at a position; in a stream, its cursor goes with it. */
  delivery(result: ExecutionResult, position: number): Delivery {
    const cursor =
      this.spec.stream === undefined || position === NOTICE
        ? undefined
        : encodeCursor({ stream: this.spec.stream, sequence: position });
    const value = cursor ? { ...result, extensions: { ...result.extensions, cursor } } : result;
    let json: string | undefined;
    return { position, cursor, serialize: () => (json ??= JSON.stringify(value)) };
  }

  /**
   * Hands a delivery to one member: `pushed` if it took it, `held` if it went to the
   * member's backlog, `dropped` if the member had to be dropped as too slow. The caller
   * counts deliveries, once for all the members it gave to.
   */
  give(
    subscriber: Subscriber,
    membership: Membership,
    delivery: Delivery,
  ): 'pushed' | 'held' | 'dropped' {
    if (membership.backlog) {
      if (membership.backlog.length < this.hub.maxPendingEventsPerGroup) {
        membership.backlog.push(delivery);
        return 'held';
      }
    } else if (subscriber.push(delivery.serialize, delivery.cursor)) {
      return 'pushed';
    }
    membership.leave();
    this.hub.slowSubscriber(this, subscriber);
    return 'dropped';
  }

  /** Settles once everything the group has received so far has been delivered. */
  settled(): Promise<void> {
    return this.#delivered;
  }

  /**
   * A member whose deliveries waited in its backlog (it caught up on stored events, or moved
   * here from another group) takes them now, less those at or before `last`, which it had
   * already; from then on it is a plain member.
   */
  handOver(subscriber: Subscriber, membership: Membership, last: number): void {
    const backlog = membership.backlog ?? [];
    delete membership.backlog;
    membership.after = last;
    for (const delivery of backlog) {
      if (delivery.position <= last) continue;
      const given = this.give(subscriber, membership, delivery);
      if (given === 'dropped') return;
      if (given === 'pushed') this.instruments.delivered(1);
    }
  }

  /** Drops an event; the first of a run of drops tells the subscribers, in order. */
  #drop(): void {
    this.instruments.eventDropped();
    if (this.#dropping) return;
    this.#dropping = true;
    this.hub.droppingEvents(this.subject);
    this.notice(
      new GraphQLError(
        'Events for this subscription were dropped: the router could not resolve them as fast as they came.',
        { extensions: { code: 'EVENTS_DROPPED' } },
      ),
    );
  }

  /** Chains a result's delivery after the previous one's, to the members it is for. */
  #deliver(
    position: number,
    result: Promise<ExecutionResult | undefined>,
    received?: number,
  ): Promise<void> {
    this.#delivered = this.#delivered
      .then(() => result)
      .then((value) => {
        // Filtered out: nobody gets it, and the next event's delivery goes on after it.
        if (value === undefined) return;
        const delivery = this.delivery(value, position);
        let pushed = 0;
        for (const [subscriber, membership] of this.members) {
          // A member catching up takes everything into its backlog; the hand-over sorts it.
          if (!membership.backlog && position <= membership.after) continue;
          const given = this.give(subscriber, membership, delivery);
          if (given === 'pushed') pushed++;
          if (given !== 'dropped' && position !== NOTICE) {
            membership.after = Math.max(membership.after, position); // never the same twice
          }
        }
        // Counted once per group and event, not per subscriber: this loop is the hot path.
        if (pushed === 0) return;
        this.instruments.delivered(pushed);
        if (received !== undefined) this.instruments.eventDelivered(secondsSince(received));
      })
      .catch((error: unknown) => this.hub.failedDelivery(this.subject, error));
    return this.#delivered;
  }
}

/** The position of a notice: after every event, so no member skips it. */
const NOTICE = Number.POSITIVE_INFINITY;

export function unexpected(): GraphQLError {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
