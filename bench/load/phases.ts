/** Steps the scenarios share: opening subscribers, making sure they are live, warming up. */
import { setTimeout as sleep } from 'node:timers/promises';
import { subscriptionDocument } from '../operations.js';
import type { CellSpec } from './protocol.js';
import { atRate, eventsIn, paceOf, type EventPublisher } from './publisher.js';
import { openSubscription, type OpenSubscription } from './subscription.js';
import type { Tally } from './tally.js';

/**
 * Runs `open(index)` for `from` … `to`-1, `concurrency` at a time, each retried twice, and
 * resolves with what they opened, in index order.
 */
export async function openAll<T>(
  from: number,
  to: number,
  concurrency: number,
  open: (index: number) => Promise<T>,
): Promise<T[]> {
  const opened: T[] = [];
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const index = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          opened[index - from] = await open(index);
          break;
        } catch (error) {
          if (attempt === 3)
            throw new Error(`subscriber ${index} could not connect`, { cause: error });
          await sleep(200 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return opened;
}

/** Opens subscribers `from` … `to`-1 into `into`, `connectConcurrency` at a time. */
export async function connect(
  spec: CellSpec,
  tally: Tally,
  into: OpenSubscription[],
  from: number,
  to: number,
): Promise<void> {
  const opened = await openAll(from, to, spec.connectConcurrency, (index) => {
    tally.add(index);
    return openSubscription({
      url: spec.url,
      query: subscriptionDocument(index % spec.operations),
      variables: { roomID: spec.rooms[index % spec.rooms.length] },
      onNext: (payload, at) => tally.receive(index, payload, at),
      onEnd: () => tally.ended(),
      timeoutMs: 30_000,
    });
  });
  into.push(...opened);
}
/**
 * Publishes warm-up events to every room that has a subscriber without one yet, until each
 * subscriber has received one: only then are all subscriptions known to be live. A new
 * round starts once deliveries have stopped for a second.
 */
export async function establish(
  spec: CellSpec,
  tally: Tally,
  publisher: EventPublisher,
): Promise<void> {
  const deadline = performance.now() + spec.establishTimeoutMs;
  for (let round = 0; ; round++) {
    const awaiting = tally.roomsAwaitingWarmup();
    if (awaiting.size === 0) return;
    if (performance.now() > deadline) {
      throw new Error(
        `subscriptions not live after ${spec.establishTimeoutMs} ms (${awaiting.size} rooms waiting)`,
      );
    }
    for (const room of awaiting)
      publisher.publish(spec.rooms[room]!, spec.warmupIds[round % spec.warmupIds.length]!);
    const roundStart = performance.now();
    while (performance.now() < deadline) {
      await sleep(20);
      const quietSince = Math.max(tally.lastActivity, roundStart);
      if (tally.roomsAwaitingWarmup().size === 0 || performance.now() - quietSince > 1000) break;
    }
  }
}

/**
 * Publishes warm-up events at the cell's rate for `warmupMs` (a burst: one burst of them),
 * then lets them drain.
 */
export async function warmUp(
  spec: CellSpec,
  tally: Tally,
  publisher: EventPublisher,
): Promise<void> {
  const events = eventsIn(spec, spec.warmupMs);
  if (events === 0) return;
  const target = tally.warmupReceipts + tally.expectedFor(events);
  await atRate(events, paceOf(spec), (n) =>
    publisher.publish(
      spec.rooms[n % spec.rooms.length]!,
      spec.warmupIds[n % spec.warmupIds.length]!,
    ),
  );
  await drain(spec, tally, () => tally.warmupReceipts >= target);
}

/** The longest a burst's drain goes on while results still come. */
const maxBurstDrainMs = 60_000;

/**
 * Waits up to `drainMs` after the last publish for `done()`. A burst is delivered at the
 * server's own pace however long that takes, so its drain lasts until `drainMs` pass without
 * any result (at most a minute).
 */
export async function drain(spec: CellSpec, tally: Tally, done: () => boolean): Promise<void> {
  const start = performance.now();
  const deadline = (): number =>
    spec.burst
      ? Math.min(start + maxBurstDrainMs, Math.max(start, tally.lastActivity) + spec.drainMs)
      : start + spec.drainMs;
  while (!done() && performance.now() < deadline()) await sleep(10);
}

/**
 * Waits until nats-server holds a subscription on the subject of each of the first `count`
 * subscribers' rooms (idle mode, where rooms are distinct, so that is every subscription).
 */
export async function natsSubscribed(spec: CellSpec, count: number): Promise<void> {
  const wanted = new Set<string>();
  for (let i = 0; i < count; i++) {
    wanted.add(spec.subjectTemplate.replace('{room}', spec.rooms[i % spec.rooms.length]!));
  }
  const deadline = performance.now() + spec.establishTimeoutMs;
  for (;;) {
    const response = await fetch(`${spec.natsMonitorUrl}/subsz?subs=1&limit=1000000`);
    const body = (await response.json()) as { subscriptions_list?: { subject: string }[] };
    const present = new Set((body.subscriptions_list ?? []).map((s) => s.subject));
    let missing = 0;
    for (const subject of wanted) if (!present.has(subject)) missing += 1;
    if (missing === 0) return;
    if (performance.now() > deadline) {
      throw new Error(
        `${missing} of ${wanted.size} subjects not subscribed after ${spec.establishTimeoutMs} ms`,
      );
    }
    await sleep(250);
  }
}
