import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { connectNats } from '../router/src/providers/nats.js';
import type { EventProvider } from '../router/src/providers/provider.js';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { pushToPull } from './support/streams.js';

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
  });
  afterAll(async () => {
    await nc?.close();
    await provider?.close();
    await server?.stop();
  });

  const store = async (subject: string, id: string) =>
    (await js.publish(subject, JSON.stringify({ id }))).seq;

  /** Subscribes to `subject`, and stores `meanwhile` before its start is known. */
  async function subscribe(subject: string, meanwhile: string[] = []) {
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
    const stored = await Promise.all(meanwhile.map((id) => store(subject, id)));
    return { messages, from: await from, stored, unsubscribe: () => subscription.unsubscribe() };
  }

  it('starts after the last message stored on its subject, and says so', async () => {
    const last = await store('starts.a', 'old');
    await store('starts.other', 'elsewhere'); // a later sequence, on another subject
    const live = await subscribe('starts.a');
    expect(live.from).toBe(last + 1);
    const next = await store('starts.a', 'new');
    expect(await live.messages.next()).toEqual({ id: 'new', position: next });
    live.unsubscribe();
  });

  it('delivers every message stored from its start on, those stored while it began too', async () => {
    await store('starts.b', 'old');
    const live = await subscribe('starts.b', ['m1', 'm2', 'm3']);
    const after = live.stored.filter((position) => position >= live.from!);
    const received = [];
    for (let i = 0; i < after.length; i++) received.push((await live.messages.next()).position);
    expect(received).toEqual(after);
    const next = await store('starts.b', 'm4');
    expect((await live.messages.next()).position).toBe(next);
    live.unsubscribe();
  });

  it('starts at the first position on a subject with nothing stored', async () => {
    const live = await subscribe('starts.empty');
    expect(live.from).toBe(1);
    const next = await store('starts.empty', 'first');
    expect(await live.messages.next()).toEqual({ id: 'first', position: next });
    live.unsubscribe();
  });
});
