/**
 * A subscriber as its fan-out group sees it: the client's end, what it is handed (a
 * delivery), and how it stands in the group (its membership).
 */
import type { GraphQLError } from 'graphql';

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
  /**
   * Its held results have been handed over (it caught up, or finished moving here): it is a
   * plain member from now on, and may move again.
   */
  handedOver?(): void;
}

/** A result ready for subscribers: serialized once, on demand, with its cursor. */
export interface Delivery {
  readonly position: number;
  readonly serialize: () => string;
  readonly cursor: string | undefined;
  /**
   * For a notice, the last member to join before it was made (`Membership.joined`): it is
   * about what happened before then, so later members do not get it. `undefined` otherwise.
   */
  readonly audience: number | undefined;
}

/** How one subscriber stands in its group. */
export interface Membership {
  /** Removes the subscriber from its group. */
  leave(): void;
  /** Its place in the order the group's members joined (`Group.join()`). */
  readonly joined: number;
  /**
   * It gets only events at later positions: those before it joined, caught up on, or
   * already given to it are not its (a backlogged member's is set when it catches up).
   */
  after: number;
  /**
   * Every event at a later position reaches it live (from its subject's broker
   * subscription); `Infinity` while that is not known.
   */
  readonly liveAfter: number;
  /** While it catches up on stored events, the live ones wait here for it. */
  backlog?: Delivery[];
}
