import { GraphQLError } from 'graphql';
import { StreamPositionGoneError } from '../errors.js';
import type { StoredMessage } from '../providers/provider.js';
import { cursorExpired } from './cursor.js';
import { parseEventPayload } from './event.js';
import type { EventHub, StartFrom } from './event-hub.js';
import { subscriptionFailed } from './trigger.js';
import type { Group } from './fan-out-group.js';
import type { Delivery, Membership, Subscriber } from './subscriber.js';
import { TurnBudget } from './turn-budget.js';

/** Stored events being resolved at once for one catching-up subscriber. */
const WINDOW = 64;

/**
 * The most stored events, and bytes, one broker read keeps in memory for the members of a
 * group resuming from the same position together. A longer replay is read by each of them
 * on its own, at its own pace.
 */
export const SHARED_READ_MAX_MESSAGES = 1024;
export const SHARED_READ_MAX_BYTES = 256 * 1024;

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
 * Members of a group waiting to replay from one position: those that come before the
 * broker read starts share it. Keyed by group (dropped with it), then by position.
 */
const gathering = new WeakMap<Group, Map<string, CatchUp[]>>();

/**
 * Replayed deliveries per turn of the event loop, per hub: a crowd catching up from one
 * shared read is served as many members per turn as their replays fit (at least one), each
 * taking its whole replay at once (one write), with the live events' I/O and fan-out in
 * between.
 */
const budgets = new WeakMap<EventHub, TurnBudget>();

/**
 * A replay turn is this share of a live fan-out turn (`fanOutTurn`). Each member's replay
 * is still one write, and a live event's two subgraph round trips each wait behind a short
 * turn instead of a long one. In the resume benchmark (1,000 members resuming 100 events
 * behind, beside 1,000 live ones; 128 deliveries a turn, so one member a turn), the live
 * p50 while they catch up was 20–25 ms instead of 77–101 ms in 5 alternating runs; the
 * price is the crowd's: all were caught up after 1.2–1.5 s instead of 0.9–1.2 s (those
 * runs, on another day than GATHER_TURNS's below).
 */
const REPLAY_TURN_SHARE = 1 / 16;

/**
 * Brings one subscriber from a stream position up to the live group. The live events are
 * held in its backlog from the moment it joined; the stored ones are replayed from `start`
 * to the last one stored once the live subscription is in place, resolved like any event
 * (many at once, so the entity batcher merges them) and delivered in order; then the
 * backlog, less what the replay already gave, and from there on it is a plain member.
 * The replay goes at the pace of the subscriber's connection, and what it resolves is
 * shared with the group's other members catching up.
 *
 * Members of the group that resume from the same position before its read starts (a crowd
 * coming back after a router restart: the read waits while each turn brings more of it,
 * and for its turn under `maxReplaysInFlight`) share one read of the broker: each has
 * joined, with its backlog, before the read looks for the last stored event, so together
 * they miss nothing.
 */
export async function catchUp(hub: EventHub, catchingUp: CatchUp): Promise<void> {
  const { group, start } = catchingUp;
  await catchingUp.ready;
  // It left, or the broker ended the subscription: it may have been the last one replaying.
  if (!isPresent(catchingUp)) return group.caughtUp();
  const key = start === 'last' ? 'last' : String(start.after);
  let byStart = gathering.get(group);
  if (!byStart) gathering.set(group, (byStart = new Map()));
  const gathered = byStart.get(key);
  if (gathered) {
    gathered.push(catchingUp); // the first one's read takes it along, and reports for it
    return;
  }
  const members = [catchingUp];
  byStart.set(key, members);
  try {
    await gather(members);
    await replayTogether(hub, group, key, members);
  } catch (error) {
    // Not the broker's refusal (each replay answers that): none may stay held for good.
    for (const { subscriber, membership } of members.filter(isPresent)) {
      if (!membership.backlog) continue; // caught up already
      membership.leave();
      subscriber.end(subscriptionFailed());
    }
    throw error;
  } finally {
    group.caughtUp(); // once for all of them: it looks at every member of the group
  }
}

/**
 * Most turns of the event loop a read waits for more members. A crowd's subscribes are
 * started a few per turn (RouterCore.turn: 1,000 take some 30 turns), so a read that left
 * after one turn would take along only the first few, and the rest would each turn start
 * reads of their own: some 30 broker reads of the same events instead of one. In the resume
 * benchmark (1,000 resuming at once) that was 17 reads; now it is one, and in 3 alternating
 * runs the live p99 while they catch up was 4.8–5.5× the baseline's instead of 6.3–7.1×,
 * and all were caught up after 1.41–1.55 s instead of 1.61–1.79 s.
 */
export const GATHER_TURNS = 64;

/** Waits while members keep joining: each turn that brought one more waits another. */
async function gather(members: readonly CatchUp[]): Promise<void> {
  for (let turn = 0, before = -1; turn < GATHER_TURNS && members.length > before; turn++) {
    before = members.length;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Each replay is a consumer on the broker: thousands of clients resuming at once wait their
 * turn rather than open thousands of them (live events meanwhile wait in their backlogs,
 * which are bounded). Until the turn comes, more members can join `members`.
 */
async function replayTogether(
  hub: EventHub,
  group: Group,
  key: string,
  members: CatchUp[],
): Promise<void> {
  const alone = await hub.replays.run(async () => {
    const byStart = gathering.get(group);
    if (byStart?.get(key) === members) byStart.delete(key);
    const present = members.filter(isPresent);
    if (present.length === 0) return [];
    if (present.length === 1) {
      await replayThenJoin(hub, present[0]!, readFor(hub, present[0]!, present[0]!.start));
      return [];
    }
    const read = await readShared(hub, present[0]!);
    if (!read) return present; // too long to keep: each reads it on its own
    // Resolved before anyone is served, so that each member's replay is written in one go.
    await Promise.all(read.messages.map((message) => replayed(group, message)));
    let budget = budgets.get(hub);
    if (!budget) {
      const perTurn = Math.max(1, Math.floor(hub.fanOutTurn * REPLAY_TURN_SHARE));
      budgets.set(hub, (budget = new TurnBudget(perTurn)));
    }
    const turns = budget;
    await Promise.all(
      present.map((member) =>
        turns.take(read.messages.length).then(() => replayThenJoin(hub, member, read)),
      ),
    );
    return [];
  });
  await Promise.all(
    alone.map((member) =>
      hub.replays.run(() => replayThenJoin(hub, member, readFor(hub, member, member.start))),
    ),
  );
}

function isPresent({ group, subscriber, membership }: CatchUp): boolean {
  return group.members.get(subscriber) === membership;
}

/** The broker's replay of the member's subject from `start`. */
function readFor(hub: EventHub, { group, stream }: CatchUp, start: StartFrom) {
  const provider = hub.providers.get(group.spec.provider)!; // the hub joined it there
  return provider.replay({
    stream,
    subject: group.subject,
    after: start === 'last' ? 'last' : start.after,
  });
}

/**
 * The whole replay from `first`'s position, read once for every member: `undefined` if it
 * is longer than a shared read keeps; a broker error is thrown to each member in turn.
 */
async function readShared(hub: EventHub, first: CatchUp): Promise<SharedRead | undefined> {
  const messages: StoredMessage[] = [];
  // Its results stay shared only while the group keeps that many replayed deliveries.
  const most = Math.min(SHARED_READ_MAX_MESSAGES, hub.maxPendingEventsPerGroup);
  let bytes = 0;
  try {
    for await (const message of readFor(hub, first, first.start)) {
      messages.push(message);
      bytes += message.data.length;
      if (messages.length > most || bytes > SHARED_READ_MAX_BYTES) {
        return undefined; // leaving the loop closes the broker's consumer
      }
    }
  } catch (error) {
    // Logged once for the crowd, not once per member.
    if (!(error instanceof StreamPositionGoneError)) logReplayFailure(hub, first.group, error);
    return { messages: [], error };
  }
  return { messages };
}

/** Stored events read once for several members, or why the read failed. */
interface SharedRead {
  readonly messages: readonly StoredMessage[];
  readonly error?: unknown;
}

async function replayThenJoin(
  hub: EventHub,
  catchingUp: CatchUp,
  source: AsyncIterable<StoredMessage> | SharedRead,
): Promise<void> {
  const { group, subscriber, membership, start } = catchingUp;
  const present = (): boolean => isPresent(catchingUp);
  let last = start === 'last' ? 0 : start.after;
  // Counted once at the end, not per result: a crowd's replays are many deliveries.
  let pushed = 0;
  try {
    if (!present()) return;
    const replay = Symbol.asyncIterator in source ? source : sharedMessages(source);
    const delivered: Promise<boolean>[] = [];
    let previous: Promise<boolean> = Promise.resolve(true);
    for await (const message of replay) {
      if (!(await roomWithin(subscriber, hub.replayStallMs)) && present()) {
        // It stopped reading: its place and its consumer go to those waiting for them.
        membership.leave();
        hub.slowSubscriber(group, subscriber);
        return;
      }
      if (!present()) break;
      // The last stored event is one the live subscription delivers too, and so are all
      // that came between the join and the read: the member starts from those instead, so
      // that none of them falls before the one read.
      if (start === 'last' && message.position > membership.liveAfter) {
        last = membership.liveAfter;
        break;
      }
      const result = replayed(group, message);
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
        pushed++;
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
      subscriber.end(cursorExpired());
    } else {
      if (Symbol.asyncIterator in source) logReplayFailure(hub, group, error);
      subscriber.end(subscriptionFailed());
    }
    return;
  } finally {
    if (pushed > 0) group.instruments.delivered(pushed);
  }
  // Caught up: hand over to the live group, skipping what the replay already delivered.
  group.handOver(subscriber, membership, last);
}

/** Whether the subscriber has room for results within `ms`: at once if it has now. */
async function roomWithin(subscriber: Subscriber, ms: number): Promise<boolean> {
  const room = subscriber.writable?.();
  if (!room) return true;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([room.then(() => true), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function logReplayFailure(hub: EventHub, group: Group, error: unknown): void {
  hub.logger.error({ err: error, subject: group.subject }, 'replaying stored events failed');
}

/** A stored event's delivery, resolved once for every member of the group replaying it. */
function replayed(group: Group, message: StoredMessage): Promise<Delivery | undefined> {
  return group.replayed(message.position, () => {
    const payload = parseEventPayload(message.data);
    return payload instanceof GraphQLError ? payload : group.spec.validate(payload);
  });
}

async function* sharedMessages({ messages, error }: SharedRead): AsyncGenerator<StoredMessage> {
  if (error !== undefined) throw error;
  yield* messages;
}
