/**
 * The load process: opens the subscribers (one WebSocket each) and publishes the events,
 * so publish and receipt times come from one clock. Forked by bench/run.ts, one process per
 * cell; it gets a `CellSpec` over IPC, stops at checkpoints until told to continue, and
 * sends back a `LoadResult`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { subscriptionDocument } from './operations.js';
import { atRate, EventPublisher } from './load/publisher.js';
import type { CellSpec, Checkpoint, LoadResult, ToLoad, ToOrchestrator } from './load/protocol.js';
import { openSubscription, type OpenSubscription } from './load/subscription.js';
import { Tally } from './load/tally.js';

const send = (message: ToOrchestrator): void => void process.send!(message);
let resume: (() => void) | undefined;

process.on('message', (message: ToLoad) => {
  if (message.type === 'continue') resume?.();
  else
    run(message.spec).then(
      (result) => send({ type: 'result', result }),
      (error: unknown) =>
        send({ type: 'failed', message: (error as Error).stack ?? String(error) }),
    );
});

/** Tells the orchestrator where we are and waits for its `continue`. */
function checkpoint(name: Checkpoint): Promise<void> {
  return new Promise((resolve) => {
    resume = resolve;
    send({ type: 'checkpoint', name });
  });
}

async function run(spec: CellSpec): Promise<LoadResult> {
  const tally = new Tally(spec);
  const publisher = await EventPublisher.connect(spec.natsUrl, spec.subjectTemplate);
  const subscriptions: OpenSubscription[] = [];
  try {
    const connectStart = performance.now();
    if (spec.mode === 'idle') {
      const baseline = Math.min(spec.idleBaseline, spec.subscribers);
      await connect(spec, tally, subscriptions, 0, baseline);
      await natsSubscribed(spec, baseline);
      await checkpoint('idle-before');
      await connect(spec, tally, subscriptions, baseline, spec.subscribers);
      const connectMs = performance.now() - connectStart;
      await natsSubscribed(spec, spec.subscribers);
      const establishMs = performance.now() - connectStart - connectMs;
      await checkpoint('idle-after');
      return tally.result({ connectMs, establishMs });
    }

    await connect(spec, tally, subscriptions, 0, spec.subscribers);
    const connectMs = performance.now() - connectStart;
    await establish(spec, tally, publisher);
    const establishMs = performance.now() - connectStart - connectMs;
    await warmUp(spec, tally, publisher);

    const events = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
    if (events > spec.eventIds.length) {
      throw new Error(`${events} events need as many seed messages; got ${spec.eventIds.length}`);
    }
    const expected = tally.expectedFor(events);
    tally.beginMeasure(events);
    await checkpoint('measure-start');
    const framesBefore = tally.frames;
    const startedAt = performance.now();
    await atRate(events, spec.rate, (n) => {
      tally.published(n, performance.now());
      publisher.publish(spec.rooms[n % spec.rooms.length]!, spec.eventIds[n]!);
    });
    const deadline = performance.now() + spec.drainMs;
    while (tally.received < expected && performance.now() < deadline) await sleep(10);
    const endedAt = tally.received >= expected ? tally.lastReceipt : performance.now();
    const frames = tally.frames - framesBefore;
    await checkpoint('measure-end');
    return tally.result({ connectMs, establishMs }, { startedAt, endedAt, frames });
  } finally {
    for (const subscription of subscriptions) subscription.close();
    await publisher.close().catch(() => undefined);
  }
}

/** Opens subscribers `from` … `to`-1, `connectConcurrency` at a time, each retried twice. */
async function connect(
  spec: CellSpec,
  tally: Tally,
  into: OpenSubscription[],
  from: number,
  to: number,
): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const index = next++;
      tally.add(index);
      for (let attempt = 1; ; attempt++) {
        try {
          into.push(
            await openSubscription({
              url: spec.url,
              query: subscriptionDocument(index % spec.operations),
              variables: { roomID: spec.rooms[index % spec.rooms.length] },
              onNext: (payload, at) => tally.receive(index, payload, at),
              onEnd: () => tally.ended(),
              timeoutMs: 30_000,
            }),
          );
          break;
        } catch (error) {
          if (attempt === 3)
            throw new Error(`subscriber ${index} could not connect`, { cause: error });
          await sleep(200 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connectConcurrency }, worker));
}

/**
 * Publishes warm-up events to every room that has a subscriber without one yet, until each
 * subscriber has received one: only then are all subscriptions known to be live. A new
 * round starts once deliveries have stopped for a second.
 */
async function establish(spec: CellSpec, tally: Tally, publisher: EventPublisher): Promise<void> {
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

/** Publishes warm-up events at the cell's rate for `warmupMs`, then lets them drain. */
async function warmUp(spec: CellSpec, tally: Tally, publisher: EventPublisher): Promise<void> {
  const events = Math.round((spec.rate * spec.warmupMs) / 1000);
  if (events === 0) return;
  const target = tally.warmupReceipts + tally.expectedFor(events);
  await atRate(events, spec.rate, (n) =>
    publisher.publish(
      spec.rooms[n % spec.rooms.length]!,
      spec.warmupIds[n % spec.warmupIds.length]!,
    ),
  );
  const deadline = performance.now() + spec.drainMs;
  while (tally.warmupReceipts < target && performance.now() < deadline) await sleep(10);
}

/**
 * Waits until nats-server holds a subscription on the subject of each of the first `count`
 * subscribers' rooms (idle mode, where rooms are distinct, so that is every subscription).
 */
async function natsSubscribed(spec: CellSpec, count: number): Promise<void> {
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
