import { GraphQLError, type ExecutionResult } from 'graphql';
import { encodeCursor } from './cursor.js';
import type { EntityEvent, EventValidator } from './event.js';
import type { EventHub } from './event-hub.js';
import type { Delivery, Membership, Subscriber } from './subscriber.js';
import {
  noopTrace,
  secondsSince,
  type FieldInstrumentation,
  type Trace,
} from '../instrumentation.js';

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
  /** Results in order, waiting for the next fan-out pass. */
  #ready: Ready[] = [];
  /** The pass under way: its results, and the members it has yet to reach. */
  #pass:
    { readonly results: Ready[]; readonly members: Iterator<[Subscriber, Membership]> } | undefined;
  /** Results queued for fan-out so far, and how many of them every member has been given. */
  #queued = 0;
  #fannedOut = 0;
  /** `settled()` callers, each waiting for the results queued when it was called. */
  #settling: { readonly upTo: number; readonly resolve: () => void }[] | undefined;
  #dropping = false;
  /** Members that have joined so far: a notice goes to those, not to later ones. */
  #joins = 0;
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
    this.#deliver(position, this.resolve(event), received);
  }

  /** Numbers a member that joins: `Membership.joined`. */
  join(): number {
    return ++this.#joins;
  }

  /**
   * Tells the members something that is not an event (e.g. events may have been missed):
   * those there now, in order after the events before it, not those who join meanwhile.
   */
  notice(error: GraphQLError): void {
    this.#deliver(NOTICE, Promise.resolve({ errors: [error] }), undefined, this.#joins);
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
  delivery(result: ExecutionResult, position: number, audience?: number): Delivery {
    const cursor =
      this.spec.stream === undefined || position === NOTICE
        ? undefined
        : encodeCursor({ stream: this.spec.stream, sequence: position });
    const value = cursor ? { ...result, extensions: { ...result.extensions, cursor } } : result;
    let json: string | undefined;
    return { position, cursor, audience, serialize: () => (json ??= JSON.stringify(value)) };
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
    return this.#delivered.then(() => {
      const upTo = this.#queued;
      if (this.#fannedOut >= upTo) return;
      return new Promise<void>((resolve) => (this.#settling ??= []).push({ upTo, resolve }));
    });
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
      // As in a pass: never the same twice, even if it moves to another group next.
      if (delivery.position !== NOTICE) membership.after = delivery.position;
    }
    subscriber.handedOver?.();
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

  /**
   * Queues a result for the fan-out after the previous one's, in the order the events came
   * (`received` is set for events, which count as pending until every member has theirs).
   */
  #deliver(
    position: number,
    result: Promise<ExecutionResult | undefined>,
    received?: number,
    audience?: number,
  ): void {
    this.#delivered = this.#delivered
      .then(() => result)
      .then((value) => {
        // Filtered out: nobody gets it, and the next event's delivery goes on after it.
        if (value === undefined) return this.#done(received);
        const delivery = this.delivery(value, position, audience);
        this.#ready.push({ delivery, received, pushed: 0 });
        this.#queued++;
        // Results that settle together (a batched fetch answers several events) are queued
        // in the same turn: the pass starts after them, so each member takes them at once.
        if (this.#ready.length === 1 && !this.#pass) process.nextTick(Group.#startPass, this);
      })
      .catch((error: unknown) => {
        this.#done(received);
        this.hub.failedDelivery(this.subject, error);
      });
  }

  /**
   * A fan-out pass hands every result ready when it starts to each member in turn, all of a
   * member's results at once, so a client's socket takes them in one write. A large pass
   * yields to I/O every `fanOutTurn` deliveries (EventHubOptions): the sockets written so
   * far flush, and subgraph answers and broker messages are taken meanwhile instead of
   * waiting behind the whole fan-out; what becomes ready meanwhile goes in the next pass.
   */
  #beginPass(): void {
    // A pass ends where a `settled()` caller waits, so that what it does next (a member
    // leaving for another group) happens before the later results.
    const waiting = (this.#settling ?? []).reduce(
      (upTo, waiter) => Math.min(upTo, waiter.upTo),
      Infinity,
    );
    const results = this.#ready.splice(0, waiting - this.#fannedOut);
    this.#pass = { results, members: this.members.entries() };
    this.#turn();
  }

  #turn(): void {
    const { results, members } = this.#pass!;
    // The members this turn serves, each given every result; result by result, so each
    // result is framed once for all of them, and each socket still takes its results in one
    // write at the end of the turn.
    const slice: [Subscriber, Membership][] = [];
    const size = Math.ceil(this.hub.fanOutTurn / results.length);
    for (let next = members.next(); !next.done; next = members.next()) {
      if (slice.push(next.value) === size) break;
    }
    try {
      for (let r = 0; r < results.length; r++) {
        const ready = results[r]!;
        const { delivery } = ready;
        // A notice is for the members that had joined when it was made (events dropped, a
        // broker outage): not about those who came after.
        const audience = delivery.audience ?? Number.POSITIVE_INFINITY;
        for (const [subscriber, membership] of slice) {
          // Dropped, or gone, while it was given an earlier result.
          if (r > 0 && this.members.get(subscriber) !== membership) continue;
          if (membership.joined > audience) continue;
          // A member catching up takes everything into its backlog; the hand-over sorts it.
          if (!membership.backlog && delivery.position <= membership.after) continue;
          const given = this.give(subscriber, membership, delivery);
          if (given === 'pushed') ready.pushed++;
          // Never the same twice: it goes on from here even if it moves to another group.
          if (given !== 'dropped' && delivery.position !== NOTICE) {
            membership.after = Math.max(membership.after, delivery.position);
          }
        }
      }
    } catch (error) {
      this.hub.failedDelivery(this.subject, error);
    }
    if (slice.length === size) setImmediate(Group.#continuePass, this);
    else this.#endPass(results);
  }

  // Scheduled with the group as argument: no closure per group (idle groups cost memory).
  static #startPass(group: Group): void {
    group.#beginPass();
  }

  static #continuePass(group: Group): void {
    group.#turn();
  }

  #endPass(results: readonly Ready[]): void {
    this.#pass = undefined;
    for (const { pushed, received } of results) {
      // Counted once per group and event, not per subscriber: the pass is the hot path.
      if (pushed > 0) {
        this.instruments.delivered(pushed);
        if (received !== undefined) this.instruments.eventDelivered(secondsSince(received));
      }
      this.#done(received);
    }
    this.#fannedOut += results.length;
    if (this.#settling) {
      const settled = this.#settling.filter((waiter) => waiter.upTo <= this.#fannedOut);
      const waiting = this.#settling.filter((waiter) => waiter.upTo > this.#fannedOut);
      this.#settling = waiting.length > 0 ? waiting : undefined;
      for (const { resolve } of settled) resolve();
    }
    // What became ready during the pass: after I/O has had its turn.
    if (this.#ready.length > 0) setImmediate(Group.#startPass, this);
  }

  /** An event is no longer pending (notices never were). */
  #done(received: number | undefined): void {
    if (received !== undefined) this.#pending--;
  }
}

/** A result waiting for, or in, a fan-out pass. */
interface Ready {
  readonly delivery: Delivery;
  /** When its event arrived (`performance.now()`); `undefined` for a notice. */
  readonly received: number | undefined;
  /** Members it was pushed to so far. */
  pushed: number;
}

/** The position of a notice: after every event, so no member skips it. */
const NOTICE = Number.POSITIVE_INFINITY;

export function unexpected(): GraphQLError {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
