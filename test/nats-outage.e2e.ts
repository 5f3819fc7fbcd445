import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '@edfs/router';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { resumable } from './support/resumable.js';
import { waitFor } from './support/wait.js';
import { listeningUrl, spawnRouter } from './support/cli.js';

const SUBJECT = 'room.outage.messages';
const ROOM = 'subscription { messageAdded(roomID: "outage") { id } }';
type Message = { messageAdded: { id: string } };
const message = (id: string) => ({ __typename: 'Message', id });

describe('a NATS outage', () => {
  let nats: NatsServer;
  let stack: TestStack;
  const storeDir = mkdtempSync(join(tmpdir(), 'edfs-nats-outage-'));
  beforeAll(async () => {
    nats = await startNatsServer({ storeDir });
    stack = await startTestStack({ natsUrl: nats.url });
  });
  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  const health = async () => (await fetch(stack.router.url.replace('/graphql', '/health'))).status;
  /** A nats-server of the test's own, and a router on it whose log lines the test reads. */
  const ownServerRouter = async () => {
    const own = await startNatsServer();
    const lines: { msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) },
    );
    const config = structuredClone(stack.routerConfig);
    config.nats.url = own.url;
    const router = await createRouter({ config, logger });
    return { own, router, lines, client: wsClient(router.url) };
  };

  it('loses nothing of a stream across a nats-server restart; core subscribers are told', async () => {
    const coreRouter = await startRouterWith(stack, coreNats);
    const durable = subscribe<Message>(wsClient(stack.router.url), ROOM);
    const core = subscribe<Message>(wsClient(coreRouter.url), ROOM);
    await waitFor('both subscriptions', async () => (await nats.subscriptionsOn(SUBJECT)) === 2);
    const publish = async (ids: string[]) => {
      const publisher = await connect({ servers: nats.url });
      for (const id of ids)
        publisher.publish(SUBJECT, JSON.stringify({ __typename: 'Message', id }));
      await publisher.flush();
      await publisher.close();
    };
    await publish(['m1']);
    expect((await durable.next()).data?.messageAdded.id).toBe('m1');
    expect((await core.next()).data?.messageAdded.id).toBe('m1');

    await nats.stop();
    await waitFor('health to report the outage', async () => (await health()) === 503);
    nats = await startNatsServer({ port: Number(new URL(nats.url).port), storeDir });
    // Published as soon as the server is back, before or after the routers reconnect.
    await publish(['m2', 'm3']);
    await waitFor(
      'both routers to subscribe again',
      async () => (await nats.subscriptionsOn(SUBJECT)) === 2,
      15_000,
    );
    expect(await health()).toBe(200);
    await publish(['m4']);

    const ids = async (sub: typeof durable, until: string) => {
      const seen: string[] = [];
      while (seen.at(-1) !== until) {
        const result = await sub.next();
        seen.push(result.data?.messageAdded.id ?? String(result.errors?.[0]?.extensions?.['code']));
      }
      return seen;
    };
    // The stream's subscriber gets every event once, in order.
    expect(await ids(durable, 'm4')).toEqual(['m2', 'm3', 'm4']);
    // The core subscriber may miss what was published before it resubscribed: it is told.
    const seenByCore = await ids(core, 'm4');
    expect(seenByCore).toContain('EVENTS_MISSED');
    const told = seenByCore.filter((id) => id === 'EVENTS_MISSED').length;
    expect(coreRouter.counters.eventGaps).toBe(told); // edfs_event_gaps_total
    expect(seenByCore.filter((id) => id !== 'EVENTS_MISSED')).toEqual(
      expect.arrayContaining(['m4']),
    );
    await coreRouter.close();
  });

  it('gives a stream subscriber that had received nothing what was stored while NATS restarted', async () => {
    const subject = 'room.quiet.messages';
    const client = wsClient(stack.router.url);
    try {
      const sub = subscribe<Message>(client, ROOM.replace('outage', 'quiet'));
      await waitFor('the subscription', async () => (await nats.subscriptionsOn(subject)) === 1);
      await nats.stop();
      nats = await startNatsServer({ port: Number(new URL(nats.url).port), storeDir });
      // Stored before the router is back (nats.js waits reconnectTimeWait, 2 s, between
      // attempts): its consumer went with the server, and the new one must start where the
      // old one did, not at the next event stored.
      const publisher = await connect({ servers: nats.url });
      await publisher
        .jetstream()
        .publish(subject, JSON.stringify({ __typename: 'Message', id: 'q1' }));
      const jsm = await publisher.jetstreamManager();
      const thresholds = async () => {
        const found = [];
        for (const consumer of await jsm.consumers.list('chat').next()) {
          if (consumer.config.filter_subject === subject)
            found.push(consumer.config.inactive_threshold);
        }
        return found;
      };
      // Recreated, its consumer is left to the server only as long as the first one was.
      await waitFor(
        'the router to read the stream again',
        async () => {
          return (await thresholds()).join() === String(30e9);
        },
        15_000,
      );
      await publisher
        .jetstream()
        .publish(subject, JSON.stringify({ __typename: 'Message', id: 'q2' }));
      await publisher.close();
      expect((await sub.next()).data?.messageAdded.id).toBe('q1');
      expect((await sub.next()).data?.messageAdded.id).toBe('q2');
    } finally {
      await client.dispose();
    }
  });

  it('notices a NATS server that stops answering, and subscribes again once it answers', async () => {
    const own = await startNatsServer();
    const router = await startRouterWith(stack, (config) => {
      config.nats.url = own.url;
      config.nats.pingIntervalMs = 200;
    });
    const client = wsClient(router.url);
    const health = async () => (await fetch(router.url.replace('/graphql', '/health'))).status;
    // What Prometheus would alert on: the same state as /health.
    const connected = async () => {
      const text = await (await fetch(router.url.replace('/graphql', '/metrics'))).text();
      return /^edfs_broker_connected\{provider="default"\} (\d)$/m.exec(text)?.[1];
    };
    try {
      expect(await connected()).toBe('1');
      const sub = subscribe<Message>(client, ROOM.replace('outage', 'frozen'));
      await waitFor(
        'the subscription',
        async () => (await own.subscriptionsOn('room.frozen.messages')) === 1,
      );
      // Frozen, as a server cut off by a partition: its TCP connections stay open.
      process.kill(own.pid, 'SIGSTOP');
      await waitFor('health to report it', async () => (await health()) === 503, 5_000);
      expect(await connected()).toBe('0');
      process.kill(own.pid, 'SIGCONT');
      await waitFor('health back', async () => (await health()) === 200, 30_000);
      expect(await connected()).toBe('1');
      const publisher = await connect({ servers: own.url });
      await publisher
        .jetstream()
        .publish('room.frozen.messages', JSON.stringify({ __typename: 'Message', id: 'f1' }));
      await publisher.close();
      expect((await sub.next()).data?.messageAdded.id).toBe('f1');
    } finally {
      process.kill(own.pid, 'SIGCONT');
      await client.dispose();
      await router.close();
      await own.stop();
    }
  });

  it('retries the start of a stream subscription that JetStream did not answer in time', async () => {
    const { own, router, lines, client } = await ownServerRouter();
    try {
      // Frozen before the subscription asks JetStream where the stream stands.
      process.kill(own.pid, 'SIGSTOP');
      const sub = subscribe<Message>(client, ROOM.replace('outage', 'slow'));
      await waitFor(
        'the unanswered start to be retried',
        () => lines.some((line) => line.msg.startsWith('stream subscription not started')),
        15_000,
      );
      process.kill(own.pid, 'SIGCONT');
      await waitFor(
        'the subscription',
        async () => (await own.subscriptionsOn('room.slow.messages')) === 1,
        15_000,
      );
      const publisher = await connect({ servers: own.url });
      await publisher
        .jetstream()
        .publish('room.slow.messages', JSON.stringify({ __typename: 'Message', id: 's1' }));
      await publisher.close();
      expect((await sub.next()).data?.messageAdded.id).toBe('s1');
    } finally {
      process.kill(own.pid, 'SIGCONT');
      await client.dispose();
      await router.close();
      await own.stop();
    }
  });

  it('retries the start of a replay that JetStream did not answer in time', async () => {
    const { own, router, lines, client } = await ownServerRouter();
    const publisher = await connect({ servers: own.url });
    const publish = (id: string) =>
      publisher.jetstream().publish('room.replay.messages', JSON.stringify(message(id)));
    try {
      // A live subscriber keeps the subject's group open: the resumer only replays.
      const live = resumable(client, 'replay');
      await waitFor(
        'the live subscription',
        async () => (await own.subscriptionsOn('room.replay.messages')) === 1,
      );
      await publish('r1');
      const { cursor } = await live.ids(1);
      await publish('r2');
      await publish('r3');
      expect((await live.ids(2)).ids).toEqual(['r2', 'r3']);

      // Frozen before the resumer asks JetStream for what it missed.
      process.kill(own.pid, 'SIGSTOP');
      const resumer = resumable(client, 'replay', cursor);
      await waitFor(
        'the unanswered replay to be retried',
        () => lines.some((line) => line.msg.startsWith('stream replay not started')),
        15_000,
      );
      process.kill(own.pid, 'SIGCONT');
      expect((await resumer.ids(2)).ids).toEqual(['r2', 'r3']);
      await publish('r4');
      expect((await resumer.ids(1)).ids).toEqual(['r4']);
    } finally {
      process.kill(own.pid, 'SIGCONT');
      await publisher.close();
      await client.dispose();
      await router.close();
      await own.stop();
    }
  });

  it('starts without NATS, serves queries, and subscribes once NATS comes up', async () => {
    const own = await startNatsServer();
    const port = Number(new URL(own.url).port);
    await own.stop();
    const router = await startRouterWith(stack, (config) => {
      config.nats.url = `nats://127.0.0.1:${port}`;
    });
    let late: NatsServer | undefined;
    const client = wsClient(router.url);
    try {
      const health = await fetch(router.url.replace('/graphql', '/health'));
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({
        status: 'unavailable',
        nats: 'disconnected',
        providers: { default: 'disconnected' },
      });
      expect((await post(router.url, '{ user(id: "1") { name } }')).body).toEqual({
        data: { user: { name: 'Alice' } },
      });
      const sub = subscribe(client, 'subscription { messageAdded(roomID: "late") { id text } }');
      await waitFor('the subscription', () => router.subscriptions === 1);

      late = await startNatsServer({ port });
      await waitFor(
        'the router to subscribe',
        async () => (await late!.subscriptionsOn('room.late.messages')) === 1,
        15_000,
      );
      expect((await fetch(router.url.replace('/graphql', '/health'))).status).toBe(200);
      const publisher = await connect({ servers: late.url });
      publisher.publish('room.late.messages', JSON.stringify({ __typename: 'Message', id: '1' }));
      await publisher.flush();
      expect(await sub.next()).toEqual({
        data: { messageAdded: { id: '1', text: 'Hello, Bob!' } },
      });
      await publisher.close();
    } finally {
      await client.dispose();
      await router.close();
      await late?.stop();
    }
  });

  it('lets a router that never reached NATS stop at once', async () => {
    const router = spawnRouter([], { PORT: '0', NATS_URL: 'nats://127.0.0.1:1' });
    try {
      await listeningUrl(router);
      const exited = new Promise((resolve) => router.once('exit', resolve));
      router.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (router.exitCode === null) router.kill('SIGKILL');
    }
  });

  it('lets a router stop cleanly while NATS is down', async () => {
    const own = await startNatsServer();
    const router = spawnRouter([], { PORT: '0', NATS_URL: own.url });
    try {
      const url = await listeningUrl(router);
      await own.stop();
      await waitFor('the router to see the outage', async () => {
        return (await fetch(url.replace('/graphql', '/health'))).status === 503;
      });

      // The CLI exits only once nothing is left open, so a leaked connection hangs here.
      const exited = new Promise((resolve) => router.once('exit', resolve));
      router.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (router.exitCode === null) router.kill('SIGKILL');
    }
  });
});
