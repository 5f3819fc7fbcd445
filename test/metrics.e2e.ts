import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Router } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith, startRouterWithUserDown } from './support/routers.js';
import { startIssuer } from './support/tokens.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { sseClient, subscribeSse } from './support/sse.js';
import { waitFor } from './support/wait.js';

const MESSAGE_ADDED = 'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id text } }';
const FIELD = { field: 'messageAdded' };

/** The text `GET /metrics` answers, from the router whose GraphQL endpoint is `url`. */
async function scrape(url: string, path = '/metrics'): Promise<string> {
  const response = await fetch(new URL(path, url));
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series (`name` with exactly `labels`) in a scrape; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (JSON.stringify(sorted(found)) === JSON.stringify(sorted(labels))) return Number(match[3]);
  }
  return 0;
}

function sorted(labels: Record<string, unknown>): [string, unknown][] {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
}

/** Reads one series of the router's metrics. */
async function metric(router: Router, name: string, labels?: Record<string, string>) {
  return sample(await scrape(router.url), name, labels);
}

describe('GET /metrics', () => {
  let stack: TestStack;
  let router: Router;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack();
    router = stack.router;
    client = wsClient(router.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await stack?.close();
  });

  it('answers in the Prometheus text format, with the process defaults', async () => {
    const response = await fetch(new URL('/metrics', router.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
      'edfs_events_received_total',
      'edfs_events_invalid_total',
      'edfs_events_dropped_total',
      'edfs_event_gaps_total',
      'edfs_deliveries_total',
      'edfs_slow_subscriber_closes_total',
      'edfs_subscriptions',
      'edfs_subscriptions_refused_total',
      'edfs_connections_refused_total',
      'edfs_broker_subjects',
      'edfs_broker_connected',
      'edfs_supergraph_reloads_total',
      'edfs_subgraph_requests_total',
      'edfs_subgraph_request_duration_seconds',
      'edfs_event_delivery_seconds',
      'edfs_http_request_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('counts an event received, its deliveries, its latency and its subgraph requests', async () => {
    const before = await scrape(router.url);
    const one = subscribe<{ messageAdded: { id: string } }>(client, MESSAGE_ADDED, {
      roomID: 'metrics',
    });
    const two = subscribe<{ messageAdded: { id: string } }>(client, MESSAGE_ADDED, {
      roomID: 'metrics',
    });
    await stack.subscribedOn('room.metrics.messages');
    await waitFor('both subscriptions', () => router.subscriptions === 2);

    stack.publish('room.metrics.messages', { __typename: 'Message', id: '1' });
    expect((await one.next()).data?.messageAdded.id).toBe('1');
    expect((await two.next()).data?.messageAdded.id).toBe('1');

    const after = await scrape(router.url);
    const delta = (name: string, labels: Record<string, string> = FIELD) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('edfs_events_received_total')).toBe(1);
    expect(delta('edfs_deliveries_total')).toBe(2);
    // One group, so one observation for both subscribers.
    expect(delta('edfs_event_delivery_seconds_count')).toBe(1);
    const messageOk = { subgraph: 'message', outcome: 'ok' };
    expect(delta('edfs_subgraph_requests_total', messageOk)).toBe(1);
    expect(delta('edfs_subgraph_request_duration_seconds_count', messageOk)).toBe(1);
    expect(sample(after, 'edfs_broker_subjects')).toBe(router.subjects);
    await one.unsubscribe();
    await two.unsubscribe();
  });

  it('counts an invalid event', async () => {
    const before = await metric(router, 'edfs_events_invalid_total', FIELD);
    const sub = subscribe(client, MESSAGE_ADDED, { roomID: 'metrics-invalid' });
    await stack.subscribedOn('room.metrics-invalid.messages');

    stack.publish('room.metrics-invalid.messages', 'not json');
    const result = await sub.next();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('INVALID_EVENT');

    expect(await metric(router, 'edfs_events_invalid_total', FIELD)).toBe(before + 1);
    await sub.unsubscribe();
  });

  it('gauges open subscriptions per transport, up and down', async () => {
    const ws = { field: 'messageAdded', transport: 'graphql-ws' };
    const sse = { field: 'messageAdded', transport: 'sse' };
    await waitFor('no subscription', () => router.subscriptions === 0);
    const open = async (labels: Record<string, string>, count: number) =>
      waitFor(`${count} ${labels['transport']} subscription(s)`, async () => {
        return (await metric(router, 'edfs_subscriptions', labels)) === count;
      });

    const viaWs = subscribe(client, MESSAGE_ADDED, { roomID: 'gauge' });
    const sseAgent = sseClient(router.url);
    const viaSse = subscribeSse(sseAgent, MESSAGE_ADDED, { roomID: 'gauge' });
    await open(ws, 1);
    await open(sse, 1);
    expect(await metric(router, 'edfs_broker_subjects')).toBe(router.subjects);

    await viaWs.unsubscribe();
    await open(ws, 0);
    expect(await metric(router, 'edfs_subscriptions', sse)).toBe(1);
    viaSse.unsubscribe();
    await open(sse, 0);
    sseAgent.dispose();
  });

  it('times GraphQL-over-HTTP requests by operation type and outcome', async () => {
    const ok = { operation_type: 'query', outcome: 'ok' };
    const refused = { operation_type: 'unknown', outcome: 'refused' };
    const name = 'edfs_http_request_duration_seconds_count';
    const before = await scrape(router.url);

    expect((await post(router.url, '{ message(id: "1") { text } }')).status).toBe(200);
    expect((await post(router.url, '{ nope }')).status).toBe(400);

    const after = await scrape(router.url);
    expect(sample(after, name, ok) - sample(before, name, ok)).toBe(1);
    expect(sample(after, name, refused) - sample(before, name, refused)).toBe(1);
  });

  it('times a request refused for its token as refused', async () => {
    const issuer = await startIssuer();
    const guarded = await startRouterWith(stack, (config) => {
      config.authentication = issuer.authentication(true);
    });
    try {
      const refused = { operation_type: 'unknown', outcome: 'refused' };
      const name = 'edfs_http_request_duration_seconds_count';
      const before = await scrape(guarded.url);
      const response = await fetch(guarded.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.status).toBe(401);
      const after = await scrape(guarded.url);
      expect(sample(after, name, refused) - sample(before, name, refused)).toBe(1);
    } finally {
      await guarded.close();
      await issuer.close();
    }
  });

  it('never takes a label value from the client', async () => {
    const odd = 'zz-odd-room-4711';
    const sub = subscribe(
      client,
      'subscription OddOperationName($roomID: ID!) { messageAdded(roomID: $roomID) { id } }',
      { roomID: odd },
    );
    await stack.subscribedOn(`room.${odd}.messages`);
    stack.publish(`room.${odd}.messages`, { __typename: 'Message', id: '1' });
    await sub.next();
    await post(router.url, 'query AnotherOddName { message(id: "1") { id } }');

    const text = await scrape(router.url);
    expect(text).not.toContain(odd);
    expect(text).not.toContain('OddOperationName');
    expect(text).not.toContain('AnotherOddName');
    await sub.unsubscribe();
  });

  it('labels a failing subgraph request with its outcome', async () => {
    const down = await startRouterWithUserDown(stack);
    try {
      await post(down.url, '{ message(id: "1") { text user { name } } }');
      expect(
        await metric(down, 'edfs_subgraph_requests_total', { subgraph: 'user', outcome: 'error' }),
      ).toBe(1);
      expect(
        await metric(down, 'edfs_subgraph_requests_total', { subgraph: 'message', outcome: 'ok' }),
      ).toBe(1);
      expect(
        await metric(down, 'edfs_http_request_duration_seconds_count', {
          operation_type: 'query',
          outcome: 'errors',
        }),
      ).toBe(1);
    } finally {
      await down.close();
    }
  });
});

describe('a slow subscriber in /metrics', () => {
  const QUERY = 'subscription { messageAdded(roomID: "metrics-flood") { id text } }';
  let stack: TestStack;
  let router: Router;
  beforeAll(async () => {
    stack = await startTestStack();
    router = await startRouterWith(stack, (config) => {
      config.slowSubscriberLimit = 50;
    });
  });
  afterAll(async () => {
    await router?.close();
    await stack?.close();
  });

  it('counts the close', async () => {
    const added = await post<{ addMessage: { id: string } }>(
      router.url,
      'mutation ($text: String!) { addMessage(roomID: "setup", text: $text, userID: "1") { id } }',
      { text: 'x'.repeat(100_000) },
    );
    const id = added.body.data!.addMessage.id;
    const socket = new WebSocket(router.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
    await stack.subscribedOn('room.metrics-flood.messages');
    await waitFor('the subscription', () => router.subscriptions === 1);
    // ws keeps its TCP socket private; pausing it is how a client that stops reading looks.
    socket.pause();
    (socket as unknown as { _socket: Socket })._socket.pause();
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));

    await waitFor('the slow subscriber to be dropped', async () => {
      for (let i = 0; i < 20; i++) {
        stack.publish('room.metrics-flood.messages', { __typename: 'Message', id });
      }
      return router.counters.slowSubscriberCloses === 1;
    });

    expect(await metric(router, 'edfs_slow_subscriber_closes_total', FIELD)).toBe(1);
    expect(
      await metric(router, 'edfs_subscriptions', {
        field: 'messageAdded',
        transport: 'graphql-ws',
      }),
    ).toBe(0);
    socket.resume();
    (socket as unknown as { _socket: Socket })._socket.resume();
    expect(await closed).toBe(1013);
  });
});

describe('the metrics option', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves them at a configured path instead', async () => {
    const router = await startRouterWith(stack, (config) => {
      config.metrics.path = '/internal/prometheus';
    });
    try {
      expect(await scrape(router.url, '/internal/prometheus')).toContain('edfs_deliveries_total');
      expect((await fetch(new URL('/metrics', router.url))).status).toBe(404);
    } finally {
      await router.close();
    }
  });

  it('turns them off', async () => {
    const router = await startRouterWith(stack, (config) => {
      config.metrics.enabled = false;
    });
    try {
      expect((await fetch(new URL('/metrics', router.url))).status).toBe(404);
    } finally {
      await router.close();
    }
  });
});
