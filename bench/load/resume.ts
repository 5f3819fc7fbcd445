import { setTimeout as sleep } from 'node:timers/promises';
import { subscriptionDocument } from '../operations.js';
import { checkpoint } from './ipc.js';
import { connect, establish, openAll, warmUp } from './phases.js';
import type { CellSpec, LoadResult, ResumeWindow, WindowLatency } from './protocol.js';
import { resumeWindows } from './protocol.js';
import { publishSteadily, type EventPublisher, type SteadyPublishing } from './publisher.js';
import { ResumeTally } from './resume-tally.js';
import {
  openConnection,
  openSubscription,
  type OpenConnection,
  type OpenSubscription,
} from './subscription.js';
import { Tally } from './tally.js';

/** Events published after the last resumer caught up, to check the hand-over to live events. */
const tailSeconds = 2;
/** The most the drain waits for late deliveries, as long as they keep coming. */
const lateLimitMs = 60_000;

/**
 * The resume scenario. Live subscribers get events on one room at a steady rate from start
 * to end. After a baseline window (live subscribers only), the resumers subscribe to the
 * same room with the same operation, receive events, and each disconnects on receiving the
 * same one; they reconnect meanwhile and, once `behind` more events are out, all subscribe
 * again at once with the cursor of the last event they got, while the live events go on.
 * Every event's publish is filed under the window the resumers were in at that moment.
 */
export async function runResume(spec: CellSpec, publisher: EventPublisher): Promise<LoadResult> {
  const { resumers: count, behind, timeoutMs } = spec.resume!;
  const room = spec.rooms[0]!;
  const query = subscriptionDocument(0);
  const variables = { roomID: room };
  const tally = new Tally(spec);
  const live: OpenSubscription[] = [];
  /** The resumers' connections before they leave, and the ones they resume on. */
  let first: OpenSubscription[] = [];
  let second: OpenConnection[] = [];
  const resumers = new ResumeTally(spec, count, (index) => first[index]?.close());
  let publishing: SteadyPublishing | undefined;
  try {
    const connectStart = performance.now();
    await connect(spec, tally, live, 0, spec.subscribers);
    const connectMs = performance.now() - connectStart;
    await establish(spec, tally, publisher);
    const establishMs = performance.now() - connectStart - connectMs;
    await warmUp(spec, tally, publisher);

    const baselineEvents = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
    tally.beginMeasure(spec.eventIds.length);
    let window: ResumeWindow = 'joining';
    /** The first event at or after which the resumers subscribe again (once armed). */
    let resumeAt = Number.POSITIVE_INFINITY;
    let resumed = false;
    const resubscribe = (target: number): void => {
      for (let index = 0; index < count; index++) {
        const cursor = resumers.cursorOf(index);
        resumers.resubscribed(index, performance.now(), target);
        second[index]!.subscribe({ query, variables, extensions: { cursor } });
      }
      resumed = true;
    };

    await checkpoint('baseline-start');
    publishing = publishSteadily(spec.rate, spec.eventIds.length, (n) => {
      if (n >= resumeAt) window = 'catch-up';
      tally.published(n, performance.now(), n < baselineEvents ? 'baseline' : window);
      publisher.publish(room, spec.eventIds[n]!);
      if (n < resumeAt) return;
      resumeAt = Number.POSITIVE_INFINITY;
      resubscribe(n); // right after the event, so that it is the last one they missed
    });
    const steady = publishing;
    await steady.reached(baselineEvents);
    await checkpoint('baseline-end');

    const deadline = performance.now() + timeoutMs;
    const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
      if (!(await until(condition, deadline, steady))) throw new Error(`timed out: ${what}`);
    };
    first = await openAll(0, count, spec.connectConcurrency, (index) =>
      openSubscription({
        url: spec.url,
        query,
        variables,
        onNext: (payload, at) => resumers.receive(index, payload, at),
        onEnd: (reason) => resumers.ended(index, reason),
        timeoutMs: 30_000,
      }),
    );
    await waitFor(() => resumers.live === count, 'every resumer to receive an event');
    resumers.leaveAt = steady.count;
    await waitFor(() => resumers.away === count, 'every resumer to leave');
    window = 'away';
    second = await openAll(0, count, spec.connectConcurrency, (index) =>
      openConnection({
        url: spec.url,
        onNext: (payload, at) => resumers.receive(index, payload, at),
        onEnd: (reason) => resumers.ended(index, reason),
        timeoutMs: 30_000,
      }),
    );
    for (let index = 0; index < count; index++) resumers.cursorOf(index); // fail before resuming

    // The measured window opens two events before the resubscribe: time for the checkpoint.
    const resumeFrom = resumers.leaveAt + behind;
    await waitFor(() => steady.count >= resumeFrom - 1, `${behind} events after the resumers left`);
    await checkpoint('measure-start');
    const measureStart = performance.now();
    const framesBefore = tally.frames;
    resumeAt = resumeFrom;
    await waitFor(() => resumed, 'the resubscribe');
    // A resumer that cannot catch up any more (see `settled`) is reported as such.
    await until(() => resumers.settled === count, deadline, steady);
    window = 'after';
    const measureEnd = resumers.settled === count ? resumers.lastSettled : performance.now();
    const frames = tally.frames - framesBefore;
    await checkpoint('measure-end');

    const tail = Math.max(10, Math.round(spec.rate * tailSeconds));
    const tailEnd = steady.count + tail;
    const tailDeadline = performance.now() + (tail / spec.rate) * 1000 + 5000;
    if (!(await until(() => steady.count >= tailEnd, tailDeadline, steady)))
      throw new Error('timed out publishing the last events');
    await steady.stop();
    const published = steady.count;
    // A router far behind still delivers: wait while deliveries keep coming, so that what
    // is missing at the end never came, rather than came late.
    const lateDeadline = performance.now() + lateLimitMs;
    await until(
      () =>
        (tally.received >= tally.expectedFor(published) &&
          resumers.received >= resumers.expectedFor(published)) ||
        performance.now() - Math.max(tally.lastActivity, resumers.lastActivity) > spec.drainMs,
      lateDeadline,
    );
    const liveWindows = Object.fromEntries(
      resumeWindows.map((name) => [name, tally.windowLatency(name)]),
    ) as Record<ResumeWindow, WindowLatency>;
    return {
      ...tally.result(
        { connectMs, establishMs },
        { startedAt: measureStart, endedAt: measureEnd, frames },
      ),
      resume: { ...resumers.result(published), live: liveWindows },
    };
  } finally {
    // A publishing failure has been thrown above already (by `until` or `stop`).
    await publishing?.stop().catch(() => undefined);
    for (const subscription of [...live, ...first, ...second]) subscription.close();
  }
}

/**
 * Polls `condition` every 10 ms: true once it holds, false if `deadline` (a
 * `performance.now()` time) passes first. Throws what stopped `publishing`, if it stopped.
 */
async function until(
  condition: () => boolean,
  deadline: number,
  publishing?: SteadyPublishing,
): Promise<boolean> {
  while (!condition()) {
    if (publishing?.failure) throw publishing.failure;
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
