import { execFileSync } from 'node:child_process';
import type { Router } from '@edfs/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, wsClient, type Result, type Subscription } from './support/graphql.js';
import { startRouterWith } from './support/routers.js';
import { startTestStack, type TestStack } from './support/stack.js';

/** What the stream keeps of each subject here: far fewer than a burst. */
const PER_SUBJECT = 20;
const QUERY = 'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id } }';
type Data = { messageAdded: { id: string } };

/**
 * Publishes `count` events with ids 1…count to `subject` from another process, and returns
 * once NATS has taken them all. It blocks this process, the router's too, meanwhile: the
 * router is busy, as one whose events come faster than it reads them.
 */
function burst(natsUrl: string, subject: string, count: number): void {
  const script = `
    import { connect } from 'nats';
    const nc = await connect({ servers: ${JSON.stringify(natsUrl)} });
    for (let id = 1; id <= ${count}; id++)
      nc.publish(${JSON.stringify(subject)}, JSON.stringify({ __typename: 'Message', id: String(id) }));
    await nc.drain();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
}

describe('a stream that removes events before the router reads them', () => {
  let stack: TestStack;
  let router: Router;

  beforeAll(async () => {
    stack = await startTestStack();
    const jsm = await stack.nc.jetstreamManager();
    const { config } = await jsm.streams.info('chat');
    await jsm.streams.update('chat', { ...config, max_msgs_per_subject: PER_SUBJECT });
    router = await startRouterWith(stack, () => undefined); // reads the stream's limit when it connects
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  /** The results of a subscription until the event with id `last`. */
  async function until(sub: Subscription<Data>, last: string) {
    const results: Result<Data>[] = [];
    for (;;) {
      const result = await sub.next();
      results.push(result);
      if (result.data?.messageAdded.id === last) return results;
    }
  }

  it('tells its subscribers EVENTS_MISSED before the first event after the loss', async () => {
    const client = wsClient(router.url);
    try {
      const sub = subscribe<Data>(client, QUERY, { roomID: 'flood' });
      await stack.subscribedOn('room.flood.messages');

      burst(stack.natsUrl, 'room.flood.messages', 3000);
      const results = await until(sub, '3000');

      const notices = results.filter((r) => r.errors);
      expect(notices[0]).toEqual({
        errors: [
          expect.objectContaining({
            message: `Events may have been missed: stream "chat" keeps only the last ${PER_SUBJECT} messages of a subject, and more were published than the router had read.`,
            extensions: { code: 'EVENTS_MISSED' },
          }),
        ],
      });
      // One per gap told, counted for /metrics (edfs_event_gaps_total).
      expect(router.counters.eventGaps).toBe(notices.length);
      const ids = results.map((r) => Number(r.data?.messageAdded.id ?? NaN));
      const events = ids.filter((id) => !Number.isNaN(id));
      // Some were lost, none doubled, and the rest in order, up to the last 20 (the stream
      // removes only older ones).
      expect(events.length).toBeLessThan(3000);
      expect(events).toEqual([...new Set(events)].sort((a, b) => a - b));
      expect(events.slice(-PER_SUBJECT)).toEqual(
        Array.from({ length: PER_SUBJECT }, (_, i) => 3000 - PER_SUBJECT + 1 + i),
      );
      // The first notice comes before the first event after a loss.
      const first = ids.findIndex(Number.isNaN);
      expect(ids.slice(0, first)).toEqual(ids.slice(0, first).map((_, i) => i + 1));
    } finally {
      await client.dispose();
    }
  });

  it('says nothing while the router keeps up', async () => {
    const client = wsClient(router.url);
    try {
      const sub = subscribe<Data>(client, QUERY, { roomID: 'steady' });
      await stack.subscribedOn('room.steady.messages');
      const gaps = router.counters.eventGaps;
      // Far more than the stream keeps, each read before the next is published.
      for (let id = 1; id <= 5 * PER_SUBJECT; id++) {
        stack.publish('room.steady.messages', { __typename: 'Message', id: String(id) });
        expect(await sub.next()).toEqual({ data: { messageAdded: { id: String(id) } } });
      }
      expect(router.counters.eventGaps).toBe(gaps);
    } finally {
      await client.dispose();
    }
  });
});
