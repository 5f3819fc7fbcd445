/**
 * The load process: opens the subscribers (one WebSocket each) and publishes the events,
 * so publish and receipt times come from one clock. Forked by bench/run.ts, one process per
 * cell; it gets a `CellSpec` over IPC, stops at checkpoints until told to continue, and
 * sends back a `LoadResult`. The resume scenario's steps are in load/resume.ts, the query
 * scenario's (HTTP queries, no subscribers) in load/queries.ts.
 */
import { checkpoint, continued, send } from './load/ipc.js';
import { connect, drain, establish, natsSubscribed, warmUp } from './load/phases.js';
import { atRate, EventPublisher, eventsIn, paceOf } from './load/publisher.js';
import type { CellSpec, LoadResult, ToLoad } from './load/protocol.js';
import { runQueries } from './load/queries.js';
import { runResume } from './load/resume.js';
import type { OpenSubscription } from './load/subscription.js';
import { Tally } from './load/tally.js';

const failed = (error: unknown): void =>
  send({ type: 'failed', message: (error as Error).stack ?? String(error) });

process.on('message', (message: ToLoad) => {
  if (message.type === 'continue') continued();
  else if (message.type === 'run-query')
    runQueries(message.spec).then((result) => send({ type: 'query-result', result }), failed);
  else run(message.spec).then((result) => send({ type: 'result', result }), failed);
});

async function run(spec: CellSpec): Promise<LoadResult> {
  const publisher = await EventPublisher.connect(spec.natsUrl, spec.subjectTemplate);
  try {
    return spec.mode === 'resume'
      ? await runResume(spec, publisher)
      : await runSubscribers(spec, publisher);
  } finally {
    await publisher.close().catch(() => undefined);
  }
}

/** The deliver and idle modes: every subscriber stays for the whole cell. */
async function runSubscribers(spec: CellSpec, publisher: EventPublisher): Promise<LoadResult> {
  const tally = new Tally(spec);
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

    const events = Math.max(1, eventsIn(spec, spec.durationMs));
    if (events > spec.eventIds.length) {
      throw new Error(`${events} events need as many seed messages; got ${spec.eventIds.length}`);
    }
    const expected = tally.expectedFor(events);
    tally.beginMeasure(events);
    await checkpoint('measure-start');
    const framesBefore = tally.frames;
    const startedAt = performance.now();
    await atRate(events, paceOf(spec), (n) => {
      tally.published(n, performance.now());
      publisher.publish(spec.rooms[n % spec.rooms.length]!, spec.eventIds[n]!);
    });
    await drain(spec, tally, () => tally.received >= expected);
    const endedAt = tally.received >= expected ? tally.lastReceipt : performance.now();
    const frames = tally.frames - framesBefore;
    await checkpoint('measure-end');
    return tally.result({ connectMs, establishMs }, { startedAt, endedAt, frames });
  } finally {
    for (const subscription of subscriptions) subscription.close();
  }
}
