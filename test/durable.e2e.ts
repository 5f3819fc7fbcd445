import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { RouterConfig } from '@edfs/router';
import { startNatsServer, type NatsServer } from '../stack/nats-server.js';
import { encodeCursor } from '../router/src/events/cursor.js';
import { startTestStack, type TestStack } from './support/stack.js';
import { post, withoutCursor, wsClient, type Result } from './support/graphql.js';
import { range, resumable, ROOM, type Message } from './support/resumable.js';
import { parseEvents } from './support/sse.js';
import { startGatedPage } from './support/gated-page.js';
import { coreNats, startRouterWith } from './support/routers.js';
import { waitFor } from './support/wait.js';
import { listeningUrl, spawnRouter, stackEnv } from './support/cli.js';

describe('durable subscriptions (JetStream)', () => {
  let stack: TestStack;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack({ scrapeTimeoutMs: 5_000 });
    client = wsClient(stack.router.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
  });

  const publish = (room: string, ids: string[]) => {
    for (const id of ids) stack.publish(`room.${room}.messages`, { __typename: 'Message', id });
  };

  it('gives a subscriber that comes after a scrape job finished its COMPLETE state at once', async () => {
    const page = await startGatedPage();
    try {
      const started = await post<{ scrapeWebsite: string }>(
        stack.router.url,
        'mutation ($url: String!) { scrapeWebsite(url: $url) }',
        { url: page.url },
      );
      const id = started.body.data!.scrapeWebsite;
      await page.requested();
      page.respond(200, 13);
      page.send('<p>done.</p>\n');
      page.end();
      const status = async () =>
        (
          await post<{ scrapeJob: { status: string } }>(
            stack.router.url,
            `{ scrapeJob(id: "${id}") { status } }`,
          )
        ).body.data?.scrapeJob.status;
      await waitFor('the job to complete', async () => (await status()) === 'COMPLETE');

      const late = client.iterate<{ scrapeJobState: { id: string; status: string } }>({
        query: 'subscription ($id: ID!) { scrapeJobState(id: $id) { id status } }',
        variables: { id },
      });
      const first = await late.next();
      expect(withoutCursor(first.value as Result).result).toEqual({
        data: { scrapeJobState: { id, status: 'COMPLETE' } },
      });
      await late.return?.();
    } finally {
      await page.close();
    }
  });

  it('resumes a graphql-ws subscription from its cursor: the missed events in order, then live', async () => {
    const first = resumable(client, 'resume');
    await stack.subscribedOn('room.resume.messages');
    publish('resume', range(1, 5));
    const { ids, cursor } = await first.ids(5);
    expect(ids).toEqual(range(1, 5));
    await first.stop();
    await stack.subscribedOn('room.resume.messages', 0);

    publish('resume', range(6, 205)); // while nobody listens
    const resumed = resumable(client, 'resume', cursor);
    // Live events keep coming while it catches up.
    const live = (async () => {
      await stack.subscribedOn('room.resume.messages');
      for (let i = 206; i <= 405; i++) publish('resume', [`m${i}`]);
    })();
    const caughtUp = await resumed.ids(400);
    await live;
    expect(caughtUp.ids).toEqual(range(6, 405));
    // Nothing more than that: the next one is the next live event.
    publish('resume', ['m406']);
    expect((await resumed.ids(1)).ids).toEqual(['m406']);
    await resumed.stop();
  });

  it('resumes a crowd from one cursor at once: each the missed events once, in order, then live', async () => {
    const first = resumable(client, 'crowd');
    await stack.subscribedOn('room.crowd.messages');
    publish('crowd', range(1, 3));
    const { cursor } = await first.ids(3);
    await first.stop();
    await stack.subscribedOn('room.crowd.messages', 0);

    publish('crowd', range(4, 53)); // while nobody listens
    // Subscribed in one go, as clients coming back after a restart: they share a read.
    const crowd = Array.from({ length: 20 }, () => resumable(client, 'crowd', cursor));
    const live = (async () => {
      await stack.subscribedOn('room.crowd.messages');
      for (let i = 54; i <= 103; i++) publish('crowd', [`m${i}`]);
    })();
    const caughtUp = await Promise.all(crowd.map((resumed) => resumed.ids(100)));
    await live;
    for (const { ids } of caughtUp) expect(ids).toEqual(range(4, 103));
    publish('crowd', ['m104']);
    for (const resumed of crowd) expect((await resumed.ids(1)).ids).toEqual(['m104']);
    await Promise.all(crowd.map((resumed) => resumed.stop()));
  });

  it('resumes over SSE with Last-Event-ID, as a browser EventSource reconnects', async () => {
    const open = async (lastEventId?: string, extensions?: { cursor: string }) => {
      const controller = new AbortController();
      const response = await fetch(stack.router.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        body: JSON.stringify({ query: ROOM, variables: { r: 'sse-resume' }, extensions }),
        signal: controller.signal,
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      return {
        async events(count: number) {
          for (;;) {
            const events = parseEvents(text).filter((e) => e['event'] === 'next');
            if (events.length >= count) return events.slice(0, count);
            const { value, done } = await reader.read();
            if (done) throw new Error('the stream ended');
            text += value;
          }
        },
        close: () => controller.abort(),
      };
    };
    const first = await open();
    await stack.subscribedOn('room.sse-resume.messages');
    publish('sse-resume', ['s1', 's2']);
    const seen = await first.events(2);
    first.close();
    await stack.subscribedOn('room.sse-resume.messages', 0);
    publish('sse-resume', ['s3', 's4', 's5']);

    const again = await open(seen[1]!['id']);
    const missed = await again.events(3);
    const ids = missed.map((e) => {
      const { result, cursor } = withoutCursor(JSON.parse(e['data']!) as Result<Message>);
      expect(cursor).toBe(e['id']);
      return result.data!.messageAdded.id;
    });
    expect(ids).toEqual(['s3', 's4', 's5']);
    again.close();
    await stack.subscribedOn('room.sse-resume.messages', 0);

    // An EventSource reconnects to the URL it first opened, a cursor in it: its
    // Last-Event-ID is the later position.
    publish('sse-resume', ['s6']);
    const fromUrl = await open(missed[2]!['id'], { cursor: seen[0]!['id']! });
    const [next] = await fromUrl.events(1);
    expect(JSON.parse(next!['data']!)).toMatchObject({ data: { messageAdded: { id: 's6' } } });
    fromUrl.close();
    await stack.subscribedOn('room.sse-resume.messages', 0);

    // An id that is no cursor (an older router numbered its events) is no position: the
    // subscription starts live rather than being refused on every reconnect.
    const numbered = await open('2');
    await stack.subscribedOn('room.sse-resume.messages');
    publish('sse-resume', ['s7']);
    const [live] = await numbered.events(1);
    expect(JSON.parse(live!['data']!)).toMatchObject({ data: { messageAdded: { id: 's7' } } });
    numbered.close();
    await stack.subscribedOn('room.sse-resume.messages', 0);

    // Nor is a cursor of another stream (a reload has bound the field to this one since).
    const elsewhere = await open(encodeCursor({ stream: 'chat_before', sequence: 9 }));
    await stack.subscribedOn('room.sse-resume.messages');
    publish('sse-resume', ['s8']);
    const [next8] = await elsewhere.events(1);
    expect(JSON.parse(next8!['data']!)).toMatchObject({ data: { messageAdded: { id: 's8' } } });
    elsewhere.close();
  });

  it('resumes multipart and legacy subscriptions from extensions.cursor', async () => {
    const first = resumable(client, 'others');
    await stack.subscribedOn('room.others.messages');
    publish('others', ['o1']);
    const { cursor } = await first.ids(1);
    await first.stop();
    await stack.subscribedOn('room.others.messages', 0);
    publish('others', ['o2', 'o3']);

    const controller = new AbortController();
    const response = await fetch(stack.router.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec=1.0',
      },
      body: JSON.stringify({ query: ROOM, variables: { r: 'others' }, extensions: { cursor } }),
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let body = '';
    while ((body.match(/"payload"/g) ?? []).length < 2) body += (await reader.read()).value ?? '';
    const payloads = [...body.matchAll(/\{"payload":(\{.*?\})\}\r\n/g)].map(
      (m) => withoutCursor(JSON.parse(m[1]!) as Result<Message>).result.data!.messageAdded.id,
    );
    expect(payloads).toEqual(['o2', 'o3']);
    controller.abort();

    const legacy = new WebSocket(stack.router.url.replace(/^http/, 'ws'), 'graphql-ws');
    const frames: { type: string; payload?: Result<Message> }[] = [];
    legacy.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => legacy.once('open', resolve));
    legacy.send(JSON.stringify({ type: 'connection_init' }));
    legacy.send(
      JSON.stringify({
        type: 'start',
        id: '1',
        payload: { query: ROOM, variables: { r: 'others' }, extensions: { cursor } },
      }),
    );
    await waitFor('two data frames', () => frames.filter((f) => f.type === 'data').length === 2);
    expect(
      frames
        .filter((f) => f.type === 'data')
        .map((f) => withoutCursor(f.payload!).result.data!.messageAdded.id),
    ).toEqual(['o2', 'o3']);
    legacy.close();
  });

  it.each([
    ['malformed', () => 'not-a-cursor', 'INVALID_CURSOR'],
    [
      'of another stream',
      () => Buffer.from('edfs1:scrape_jobs:1').toString('base64url'),
      'CURSOR_WRONG_STREAM',
    ],
  ])('refuses a cursor that is %s with its own code', async (_, cursor, code) => {
    const sub = resumable(client, 'bad-cursor', cursor());
    await expect(sub.next()).rejects.toEqual([expect.objectContaining({ extensions: { code } })]);
    expect(stack.router.subjects).toBe(0);
  });

  it('resumes on a second router after the first is killed: 0 lost, 0 twice over 1,200 events', async () => {
    const killed = spawnRouter([], { PORT: '0', ...stackEnv(stack) });
    const other = wsClient(await listeningUrl(killed));
    other.on('error', () => undefined);
    try {
      const first = resumable(other, 'failover');
      await stack.subscribedOn('room.failover.messages');
      publish('failover', range(1, 600));
      const before = await first.ids(300);
      killed.kill('SIGKILL'); // events 301 to 600 are on their way to it
      publish('failover', range(601, 1200));

      const resumed = resumable(client, 'failover', before.cursor);
      const after = await resumed.ids(900);
      expect([...before.ids, ...after.ids]).toEqual(range(1, 1200));
      await resumed.stop();
    } finally {
      if (killed.exitCode === null) killed.kill('SIGKILL');
      await other.dispose();
    }
  });

  it('ignores a cursor sent for a core-NATS field', async () => {
    const router = await startRouterWith(stack, coreNats);
    const core = wsClient(router.url);
    try {
      const cursor = Buffer.from('edfs1:chat:1').toString('base64url');
      const sub = resumable(core, 'core-cursor', cursor);
      await stack.subscribedOn('room.core-cursor.messages');
      publish('core-cursor', ['c1']);
      const next = await sub.next();
      expect(next).toEqual({ result: { data: { messageAdded: { id: 'c1' } } }, cursor: undefined });
    } finally {
      await core.dispose();
      await router.close();
    }
  });
});

describe('streams at start-up', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A router of the example graph on a NATS of its own, with `streams` declared. */
  async function startOn(nats: NatsServer, streams: RouterConfig['nats']['streams']) {
    return startRouterWith(stack, (config) => {
      config.nats.url = nats.url;
      config.nats.streams = streams;
    });
  }

  it('stops with one line naming a stream that is missing and how to create it', async () => {
    const nats = await startNatsServer();
    try {
      await expect(startOn(nats, [])).rejects.toThrow(
        `stream "chat": Subscription.messageAdded reads it, but it does not exist on NATS; declare it under nats.streams in the router config, or create it: nats stream add chat --subjects 'room.*.messages'`,
      );
    } finally {
      await nats.stop();
    }
  });

  it('stops when a stream does not capture the subjects of a field that reads it', async () => {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'chat', subjects: ['chat.>'] });
      await jsm.streams.add({ name: 'scrape_jobs', subjects: ['scrapeJob.*.state'] });
      await expect(startOn(nats, [])).rejects.toThrow(
        'stream "chat": Subscription.messageAdded publishes on room.*.messages, but the stream captures only chat.>',
      );
      // Declaring it with other subjects than it has is refused too: the router never edits a stream.
      await expect(
        startOn(nats, [
          {
            name: 'chat',
            subjects: ['room.*.messages'],
            maxAgeSeconds: 60,
            maxMessagesPerSubject: 10,
            storage: 'memory',
          },
        ]),
      ).rejects.toThrow('stream "chat": it exists on NATS with subjects chat.>');
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  it('creates the declared streams once, and starts again on them', async () => {
    const nats = await startNatsServer();
    try {
      const first = await startOn(nats, stack.routerConfig.nats.streams);
      await first.close();
      const again = await startOn(nats, stack.routerConfig.nats.streams);
      await again.close();
      const nc = await connect({ servers: nats.url });
      const jsm = await nc.jetstreamManager();
      const names = (await jsm.streams.names().next()).sort();
      expect(names).toEqual(['chat', 'scrape_jobs']);
      expect((await jsm.streams.info('chat')).config.max_msgs_per_subject).toBe(1000);
      await nc.close();
    } finally {
      await nats.stop();
    }
  });
});
