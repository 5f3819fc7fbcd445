import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { post, withoutCursor, type Result } from './support/graphql.js';
import { parseEvents } from './support/sse.js';
import { listeningUrl, spawnRouter, stackEnv } from './support/cli.js';
import { RawSocket, type WsProtocol } from './support/raw-ws.js';
import { waitFor } from './support/wait.js';

type Message = { messageAdded: { id: string } };
const ROOM = 'subscription { messageAdded(roomID: "drain") { id } }';
const SUBJECT = 'room.drain.messages';
const ids = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `d${from + i}`);

/** A graphql-ws client that follows one subscription and resumes it on another router. */
function wsFollower() {
  const seen: string[] = [];
  let cursor: string | undefined;
  let closeCode: number | undefined;
  let current: Client | undefined;
  const follow = async (url: string): Promise<void> => {
    const client: Client = (current = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: (event) => void (closeCode ??= (event as { code: number }).code) },
    }));
    try {
      for await (const value of client.iterate<Message>({
        query: ROOM,
        ...(cursor ? { extensions: { cursor } } : {}),
      })) {
        const taken = withoutCursor(value as Result<Message>);
        cursor = taken.cursor;
        seen.push(taken.result.data!.messageAdded.id);
      }
    } catch {
      // The router went away: the caller follows on another one.
    } finally {
      await client.dispose();
    }
  };
  return { seen, follow, closeCode: () => closeCode, stop: () => current?.dispose() };
}

/** An SSE client that reconnects with Last-Event-ID, as a browser's EventSource does. */
function sseFollower() {
  const seen: string[] = [];
  let lastEventId: string | undefined;
  let controller: AbortController | undefined;
  const follow = async (url: string): Promise<void> => {
    controller = new AbortController();
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
      body: JSON.stringify({ query: ROOM }),
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    try {
      for (;;) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        text += chunk;
        const end = text.lastIndexOf('\n\n');
        if (end < 0) continue;
        for (const event of parseEvents(text.slice(0, end + 2))) {
          if (event['event'] !== 'next') continue;
          const taken = withoutCursor(JSON.parse(event['data']!) as Result<Message>);
          lastEventId = event['id'];
          seen.push(taken.result.data!.messageAdded.id);
        }
        text = text.slice(end + 2);
      }
    } catch {
      // aborted by the test
    }
  };
  return { seen, follow, stop: () => controller?.abort() };
}

/** A user subgraph that holds each request until `answer` answers the oldest one. */
async function heldUserSubgraph() {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    held: () => held.length,
    answer() {
      const res = held.shift()!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { user: { name: 'Slow' } } }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A query on `agent`'s one kept-alive connection: resolves to its answer's `Connection`. */
function queryOn(url: string, agent: Agent): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers.connection));
      },
    );
    sent.on('error', reject);
    sent.end(JSON.stringify({ query: '{ user(id: "1") { name } }' }));
  });
}

describe('a router that stops', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('turns /ready to 503 while it keeps serving for shutdown.delayMs', async () => {
    const router = await startRouterWith(stack, (config) => {
      config.shutdown.delayMs = 2_000;
    });
    const ready = async () => {
      const response = await fetch(router.url.replace('/graphql', '/ready'));
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await ready()).toEqual({
      status: 200,
      body: { status: 'ready', nats: 'connected', providers: { default: 'connected' } },
    });
    const closed = router.close();
    expect(await ready()).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        nats: 'connected',
        providers: { default: 'connected' },
        draining: true,
      },
    });
    await closed;
  });

  it('closes each keep-alive connection after its answer once it drains', async () => {
    const router = await startRouterWith(stack, (config) => {
      config.shutdown.delayMs = 500;
    });
    // One connection, kept between queries, as a load balancer or an HTTP client keeps it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const query = () => queryOn(router.url, agent);
    try {
      expect(await query()).toBe('keep-alive');
      const closed = router.close();
      // Still served while /ready says 503, but told to come back on a new connection, which
      // the load balancer sends to another router.
      expect(await query()).toBe('close');
      // A stream opened meanwhile too: its reconnect (an EventSource's) must not come back here.
      const stream = await fetch(router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { messageAdded(roomID: "d") { id } }' }),
      });
      expect(stream.headers.get('connection')).toBe('close');
      await stream.body?.cancel();
      await closed;
    } finally {
      agent.destroy();
    }
  });

  it('closes the keep-alive connection of a query that came before the drain and is answered during it', async () => {
    const user = await heldUserSubgraph();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const router = await startRouterWith(stack, (config) => {
        config.subgraphs['user']!.url = user.url;
      });
      const answered = queryOn(router.url, agent);
      await waitFor('the subgraph request', () => user.held() === 1);
      const closed = router.close();
      user.answer();
      expect(await answered).toBe('close');
      await closed;
    } finally {
      agent.destroy();
      await user.close();
    }
  });

  it.each<WsProtocol>(['graphql-transport-ws', 'graphql-ws'])(
    '%s: answers the queries in flight before it closes their socket; a socket with none goes at once',
    async (protocol) => {
      const user = await heldUserSubgraph();
      try {
        const router = await startRouterWith(stack, (config) => {
          config.subgraphs['user']!.url = user.url;
        });
        const asking = new RawSocket(router.url, protocol);
        const idle = new RawSocket(router.url, protocol);
        for (const socket of [asking, idle]) await socket.init();
        await asking.subscribe(protocol, 'q', '{ user(id: "1") { name } }');
        await waitFor('the subgraph request', () => user.held() === 1);

        const closed = router.close();
        expect((await idle.closed).code).toBe(1001);
        user.answer();
        const answer = await asking.first(protocol === 'graphql-ws' ? 'data' : 'next');
        expect(answer).toMatchObject({ id: 'q', payload: { data: { user: { name: 'Slow' } } } });
        expect((await asking.closed).code).toBe(1001);
        await closed;
      } finally {
        await user.close();
      }
    },
  );

  it('cuts the subgraph requests of the queries it cut, instead of waiting for their timeout', async () => {
    // A user subgraph that takes each request and never answers it.
    const requests: IncomingMessage[] = [];
    const silent = createServer((req) => void requests.push(req));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const router = await startRouterWith(stack, (config) => {
        config.subgraphs['user']!.url = `http://127.0.0.1:${port}/graphql`;
        config.subgraphTimeoutMs = 60_000;
        config.shutdown.graceMs = 100;
      });
      const query = post(router.url, '{ user(id: "1") { name } }').then(
        () => 'answered',
        () => 'cut',
      );
      await waitFor('the subgraph request', () => requests.length === 1);
      let cut = false;
      requests[0]!.socket.once('close', () => (cut = true));

      await router.close();

      expect(await query).toBe('cut');
      // Left alone, it would hold its socket (and the process) for the 60 s of its timeout.
      await waitFor('the subgraph request to be cut', () => cut, 2_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('on SIGTERM sends its clients to another router: none loses or repeats an event', async () => {
    const stopping = spawnRouter([], { PORT: '0', ...stackEnv(stack) });
    const url = await listeningUrl(stopping);
    const ws = wsFollower();
    const sse = sseFollower();
    try {
      const following = [ws.follow(url), sse.follow(url)];
      await stack.subscribedOn(SUBJECT);
      await waitFor('both clients', async () => {
        const metrics = await (await fetch(url.replace('/graphql', '/metrics'))).text();
        return ['sse', 'graphql-ws'].every((transport) =>
          metrics.includes(`edfs_subscriptions{field="messageAdded",transport="${transport}"} 1`),
        );
      });
      for (const id of ids(1, 200)) stack.publish(SUBJECT, { __typename: 'Message', id });
      await waitFor('the first events', () => ws.seen.length >= 50 && sse.seen.length >= 50);

      const exited = new Promise((resolve) => stopping.once('exit', resolve));
      stopping.kill('SIGTERM');
      await Promise.all(following); // both streams end
      expect(await exited).toBe(0);
      expect(ws.closeCode()).toBe(1001);

      for (const id of ids(201, 400)) stack.publish(SUBJECT, { __typename: 'Message', id });
      const resumed = [ws.follow(stack.router.url), sse.follow(stack.router.url)];
      await waitFor('every event on the other router', () =>
        [ws.seen, sse.seen].every((seen) => seen.at(-1) === 'd400'),
      );
      expect(ws.seen).toEqual(ids(1, 400));
      expect(sse.seen).toEqual(ids(1, 400));
      sse.stop();
      await ws.stop();
      await Promise.all(resumed);
    } finally {
      if (stopping.exitCode === null) stopping.kill('SIGKILL');
    }
  });
});
