import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { connectNats } from '../router/src/providers/nats.js';
import type { EventProvider } from '../router/src/providers/provider.js';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { pushToPull } from './support/streams.js';
import { waitFor } from './support/wait.js';

/**
 * A stream subscription says where it starts (`onReady(from)`), and every message stored
 * on its subject from there on reaches it: what lets an `initial: LAST` subscriber tell
 * which live events came after the stored one it read (catch-up.ts).
 */
describe('a NATS stream subscription', () => {
  let server: NatsServer;
  let provider: EventProvider;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    server = await startNatsServer();
    provider = connectNats({
      url: server.url,
      logger: pino({ level: 'silent' }),
      streams: [
        {
          name: 'starts',
          subjects: ['starts.>'],
          maxAgeSeconds: 60,
          maxMessagesPerSubject: 100,
          storage: 'file',
        },
      ],
    });
    await provider.firstAttempt;
    nc = await connect({ servers: server.url });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    await nc?.close();
    await provider?.close();
    await server?.stop();
  });

  const store = async (subject: string, id: string) =>
    (await js.publish(subject, JSON.stringify({ id }))).seq;

  /** Subscribes to `subject` through the router's provider; `from` is where it says it starts. */
  async function subscribe(subject: string) {
    const messages = pushToPull<{ id: string; position: number | undefined }>();
    let ready!: (from: number | undefined) => void;
    const from = new Promise<number | undefined>((resolve) => (ready = resolve));
    const subscription = provider.subscribe(
      subject,
      {
        onMessage: (data, position) =>
          messages.push({
            ...(JSON.parse(new TextDecoder().decode(data)) as { id: string }),
            position,
          }),
        onError: (error) => messages.fail(error),
        onReady: ready,
      },
      { stream: 'starts' },
    );
    return { messages, from: await from, unsubscribe: () => subscription.unsubscribe() };
  }

  it('starts at the next message stored in the stream, and says where', async () => {
    await store('starts.a', 'old');
    const last = await store('starts.other', 'elsewhere'); // the stream's last, another subject
    const live = await subscribe('starts.a');
    expect(live.from).toBe(last + 1);
    const next = await store('starts.a', 'new');
    expect(await live.messages.next()).toEqual({ id: 'new', position: next });
    live.unsubscribe();
  });

  it('delivers exactly the messages stored from where it says it starts, while they keep coming', async () => {
    const stored: number[] = [];
    let publishing = true;
    const publisher = (async () => {
      while (publishing) stored.push(await store('starts.busy', 'x'));
    })();
    await waitFor('the first message stored', () => stored.length > 0);
    const subscriptions = [];
    for (let i = 0; i < 10; i++) subscriptions.push(await subscribe('starts.busy'));
    const enough = stored.length + 5;
    await waitFor('a few more messages', () => stored.length >= enough);
    publishing = false;
    await publisher;
    for (const live of subscriptions) {
      const expected = stored.filter((position) => position >= live.from!);
      // Some came before it started, and are not its; all the others are, in order.
      expect(expected.length).toBeLessThan(stored.length);
      const received = [];
      for (const _ of expected) received.push((await live.messages.next()).position);
      expect(received).toEqual(expected);
      live.unsubscribe();
    }
  });

  it('starts each of a crowd subscribing at once after what was stored before it asked', async () => {
    const before = await store('starts.crowd', 'before');
    const crowd = await Promise.all(Array.from({ length: 50 }, () => subscribe('starts.crowd')));
    const next = await store('starts.crowd', 'next');
    const last = await store('starts.crowd', 'last');
    for (const live of crowd) {
      expect(live.from).toBeGreaterThan(before);
      expect(live.from).toBeLessThanOrEqual(next);
      // Exactly what came after: nothing from before it asked, nothing twice.
      expect(await live.messages.next()).toEqual({ id: 'next', position: next });
      expect(await live.messages.next()).toEqual({ id: 'last', position: last });
      live.unsubscribe();
    }
  });

  /** The inactive thresholds of the consumers reading `subject`, in ns. */
  const thresholds = async (subject: string) => {
    const found = [];
    for (const consumer of await jsm.consumers.list('starts').next()) {
      // A consumer deleted while the server lists them comes as null: it is gone.
      if (consumer?.config.filter_subject === subject)
        found.push(consumer.config.inactive_threshold);
    }
    return found;
  };

  it('leaves its consumer to the server for only 30 s once nobody reads it', async () => {
    const live = await subscribe('starts.idle');
    // nats.js creates it with 5 minutes; the router sets its own right after.
    await waitFor(
      'the threshold to be set',
      async () => (await thresholds('starts.idle'))[0] === 30e9,
    );
    expect(await thresholds('starts.idle')).toEqual([30e9]);
    live.unsubscribe();
    await waitFor('the consumer to go', async () => (await thresholds('starts.idle')).length === 0);
  });

  it("leaves a replay's consumer to the server for only 30 s too, and deletes it when done", async () => {
    const first = await store('starts.replayed', 'r1');
    await store('starts.replayed', 'r2');
    await store('starts.replayed', 'r3');
    const replay = provider.replay({ stream: 'starts', subject: 'starts.replayed', after: first });
    const positions = [(await replay.next()).value?.position];
    await waitFor(
      'the threshold to be set',
      async () => (await thresholds('starts.replayed'))[0] === 30e9,
    );
    for await (const message of replay) positions.push(message.position);
    expect(positions).toEqual([first + 1, first + 2]);
    await waitFor(
      'the consumer to go',
      async () => (await thresholds('starts.replayed')).length === 0,
    );
  });
});
