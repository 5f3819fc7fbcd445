import { GraphQLError } from 'graphql';
import { StreamPositionGoneError } from '../errors.js';
import { cursorExpired } from './cursor.js';
import { parseEventPayload } from './event.js';
import { subscriptionFailed, type EventHub, type StartFrom } from './event-hub.js';
import type { Group, Membership, Subscriber } from './fan-out-group.js';

/** Stored events being resolved at once for one catching-up subscriber. */
const WINDOW = 64;

export interface CatchUp {
  /** Settles once the live subscription delivers every new event. */
  readonly ready: Promise<void>;
  readonly group: Group;
  readonly subscriber: Subscriber;
  /** Its membership: live events wait in its backlog until it has caught up. */
  readonly membership: Membership;
  readonly stream: string;
  readonly start: StartFrom;
}

/**
 * Brings one subscriber from a stream position up to the live group. The live events are
 * held in its backlog from the moment it joined; the stored ones are replayed from `start`
 * to the last one stored once the live subscription is in place, resolved like any event
 * (many at once, so the entity batcher merges them) and delivered in order; then the
 * backlog, less what the replay already gave, and from there on it is a plain member.
 * The replay goes at the pace of the subscriber's connection, and what it resolves is
 * shared with the group's other members catching up.
 */
export async function catchUp(hub: EventHub, catchingUp: CatchUp): Promise<void> {
  try {
    // Each replay is a consumer on the broker: thousands of clients resuming at once wait
    // their turn rather than open thousands of them (live events meanwhile wait in their
    // backlogs, which are bounded).
    await hub.replays.run(() => replayThenJoin(hub, catchingUp));
  } finally {
    catchingUp.group.caughtUp();
  }
}

async function replayThenJoin(
  hub: EventHub,
  { ready, group, subscriber, membership, stream, start }: CatchUp,
): Promise<void> {
  const present = (): boolean => group.members.get(subscriber) === membership;
  let last = start === 'last' ? 0 : start.after;
  try {
    await ready;
    if (!present()) return; // it left, or the broker ended the subscription meanwhile
    const provider = hub.providers.get(group.spec.provider)!; // the hub joined it there
    const replay = provider.replay({
      stream,
      subject: group.subject,
      after: start === 'last' ? 'last' : start.after,
    });
    const delivered: Promise<boolean>[] = [];
    let previous: Promise<boolean> = Promise.resolve(true);
    for await (const message of replay) {
      await subscriber.writable?.();
      if (!present()) break;
      const result = group.replayed(message.position, () => {
        const payload = parseEventPayload(message.data);
        return payload instanceof GraphQLError ? payload : group.spec.validate(payload);
      });
      previous = previous.then(async (ok) => {
        if (!ok) return false;
        const delivery = await result;
        if (!present()) return false;
        if (!delivery) return true; // filtered out
        if (!subscriber.push(delivery.serialize, delivery.cursor)) {
          membership.leave();
          hub.slowSubscriber(group, subscriber);
          return false;
        }
        group.instruments.delivered(1);
        return true;
      });
      delivered.push(previous);
      last = message.position;
      if (delivered.length >= WINDOW && !(await delivered.shift()!)) break;
    }
    if (!(await previous) || !present()) return;
  } catch (error) {
    if (!present()) return;
    membership.leave();
    if (error instanceof StreamPositionGoneError) {
      subscriber.end(cursorExpired(error.firstPosition));
    } else {
      hub.logger.error({ err: error, subject: group.subject }, 'replaying stored events failed');
      subscriber.end(subscriptionFailed());
    }
    return;
  }
  // Caught up: hand over to the live group, skipping what the replay already delivered.
  group.handOver(subscriber, membership, last);
}
