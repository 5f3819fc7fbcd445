import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '@edfs/router';
import { startTestStack, type TestStack } from './support/stack.js';
import { startRouterWith } from './support/routers.js';
import { post, subscribe, wsClient } from './support/graphql.js';
import { recordHeaders, type HeaderRecorder } from './support/header-recorder.js';
import { waitFor } from './support/wait.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './support/otlp-receiver.js';

const FEDERATED = '{ messages(roomID: "123") { text user { name } } }';
const MESSAGE_ADDED =
  'subscription ($roomID: ID!) { messageAdded(roomID: $roomID) { id text user { name } } }';
const SERVER = 2;
const CLIENT = 3;

/** A W3C `traceparent` of a sampled client span. */
function clientSpan(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

async function postTraced(url: string, query: string, traceparent: string): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      traceparent,
    },
    body: JSON.stringify({ query }),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** The one span named `name` among `spans`. */
function only(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const named = spans.filter((span) => span.name === name);
  expect(named.map((span) => span.name)).toEqual([name]);
  return named[0]!;
}

describe('tracing', () => {
  let stack: TestStack;
  let receiver: OtlpReceiver;
  let userRecorder: HeaderRecorder;
  let messageRecorder: HeaderRecorder;
  beforeAll(async () => {
    stack = await startTestStack();
    receiver = await startOtlpReceiver();
    userRecorder = await recordHeaders(stack.subgraphs.user.url);
    messageRecorder = await recordHeaders(stack.subgraphs.message.url);
  });
  afterAll(async () => {
    await stack?.close();
    await userRecorder?.close();
    await messageRecorder?.close();
    await receiver?.close();
  });

  /** A router tracing to the receiver, its user and message fetches through the recorders. */
  const tracedRouter = (edit: (config: RouterConfig) => void = () => {}) =>
    startRouterWith(stack, (config) => {
      config.tracing = {
        ...config.tracing,
        enabled: true,
        endpoint: receiver.url,
        serviceName: 'traced-router',
      };
      config.subgraphs['user']!.url = userRecorder.url;
      config.subgraphs['message']!.url = messageRecorder.url;
      edit(config);
    });

  it("traces a federated query under the client's span, and the subgraphs under their fetches", async () => {
    const router = await tracedRouter();
    const first = clientSpan();
    const second = clientSpan();
    const userRequests = userRecorder.received.length;
    try {
      expect(await postTraced(router.url, FEDERATED, first.traceparent)).toEqual({
        data: {
          messages: [
            { text: 'Hello, Bob!', user: { name: 'Alice' } },
            { text: 'Hi Alice!', user: { name: 'Bob' } },
          ],
        },
      });
      await postTraced(router.url, FEDERATED, second.traceparent);
    } finally {
      await router.close(); // sends the spans not sent yet
    }

    const spans = receiver.spans.filter((span) => span.traceId === first.traceId);
    const request = only(spans, 'POST /graphql');
    expect(request).toMatchObject({
      parentSpanId: first.spanId,
      kind: SERVER,
      serviceName: 'traced-router',
      attributes: {
        'graphql.operation.type': 'query',
        'edfs.outcome': 'ok',
        'edfs.operation.cached': false,
      },
    });
    for (const phase of ['parse', 'validate', 'plan', 'execute']) {
      expect(only(spans, phase).parentSpanId).toBe(request.spanId);
    }
    const execute = only(spans, 'execute');
    const fetches = ['message', 'user'].map((subgraph) => {
      const fetch = only(spans, `fetch ${subgraph}`);
      expect(fetch).toMatchObject({
        parentSpanId: execute.spanId,
        kind: CLIENT,
        attributes: { 'edfs.subgraph.name': subgraph, 'edfs.subgraph.outcome': 'ok' },
      });
      return fetch;
    });
    expect(spans).toHaveLength(7);

    // The subgraph's request names its fetch span as the parent.
    const [messageFetch, userFetch] = fetches;
    expect(userRecorder.received[userRequests]?.['traceparent']).toBe(
      `00-${first.traceId}-${userFetch!.spanId}-01`,
    );
    expect(messageRecorder.received.map((headers) => headers['traceparent'])).toContain(
      `00-${first.traceId}-${messageFetch!.spanId}-01`,
    );

    // The same operation again comes from the cache: no parse, validate or plan.
    const cached = receiver.spans.filter((span) => span.traceId === second.traceId);
    expect(only(cached, 'POST /graphql').attributes['edfs.operation.cached']).toBe(true);
    expect(cached.map((span) => span.name).sort()).toEqual([
      'POST /graphql',
      'execute',
      'fetch message',
      'fetch user',
    ]);
  });

  it('starts a trace of its own without a traceparent, sampled by sampleRatio', async () => {
    const router = await tracedRouter((config) => (config.tracing.sampleRatio = 0));
    const before = receiver.spans.length;
    const sampled = clientSpan();
    try {
      // Not sampled: no client span decides, and the ratio is 0.
      expect((await post(router.url, FEDERATED)).status).toBe(200);
      // A client's sampled flag is followed whatever the ratio.
      await postTraced(router.url, FEDERATED, sampled.traceparent);
    } finally {
      await router.close();
    }
    const spans = receiver.spans.slice(before);
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((span) => span.traceId === sampled.traceId)).toBe(true);
  });

  it('traces each event resolution at eventSampleRatio 1, batched fetches linked to the first', async () => {
    const router = await tracedRouter((config) => {
      config.tracing.eventSampleRatio = 1;
      // Long enough that both events' entity fetches share one request, however loaded the machine.
      config.batchWindowMs = 200;
    });
    const client = wsClient(router.url);
    const messageRequests = messageRecorder.received.length;
    const before = receiver.spans.length;
    try {
      const sub = subscribe<{ messageAdded: { id: string } }>(client, MESSAGE_ADDED, {
        roomID: 'traced',
      });
      await stack.subscribedOn('room.traced.messages');
      await waitFor('the subscription', () => router.subscriptions === 1);
      // Published together, so they are resolved together.
      stack.publish('room.traced.messages', { __typename: 'Message', id: '1' });
      stack.publish('room.traced.messages', { __typename: 'Message', id: '2' });
      expect((await sub.next()).data?.messageAdded.id).toBe('1');
      expect((await sub.next()).data?.messageAdded.id).toBe('2');
      await sub.unsubscribe();
    } finally {
      await client.dispose();
      await router.close();
    }

    const spans = receiver.spans.slice(before);
    const resolutions = spans.filter((span) => span.name === 'resolve messageAdded');
    expect(resolutions).toHaveLength(2);
    const fetchesOf = (resolution: ReceivedSpan, subgraph: string) =>
      spans.filter(
        (span) =>
          span.traceId === resolution.traceId &&
          span.parentSpanId === resolution.spanId &&
          span.name === `fetch ${subgraph}`,
      );
    for (const resolution of resolutions) {
      expect(resolution.parentSpanId).toBeUndefined();
      expect(resolution.attributes).toMatchObject({
        'edfs.event.field': 'messageAdded',
        'edfs.outcome': 'ok',
      });
      expect(fetchesOf(resolution, 'message')).toHaveLength(1);
      expect(fetchesOf(resolution, 'user')).toHaveLength(1);
    }
    // One request to the message subgraph for both events: it carries the first fetch's
    // traceparent, and the other fetch links to that one.
    const [one, two] = resolutions.map((resolution) => fetchesOf(resolution, 'message')[0]!);
    const sent = messageRecorder.received.slice(messageRequests).map((h) => h['traceparent']);
    expect(sent).toHaveLength(1);
    const [firstFetch, otherFetch] = sent[0]!.includes(one!.spanId) ? [one!, two!] : [two!, one!];
    expect(sent[0]).toBe(`00-${firstFetch.traceId}-${firstFetch.spanId}-01`);
    expect(firstFetch.attributes['edfs.batch.fetches']).toBe(2);
    expect(otherFetch.attributes['edfs.batch.fetches']).toBe(2);
    expect(otherFetch.links).toEqual([{ traceId: firstFetch.traceId, spanId: firstFetch.spanId }]);
    expect(firstFetch.links).toEqual([]);
  });

  it('sends nothing when tracing is off', async () => {
    const requests = receiver.requests;
    const router = await startRouterWith(stack, (config) => {
      config.tracing.endpoint = receiver.url;
      config.subgraphs['user']!.url = userRecorder.url;
    });
    const userRequests = userRecorder.received.length;
    try {
      await postTraced(router.url, FEDERATED, clientSpan().traceparent);
    } finally {
      await router.close();
    }
    expect(receiver.requests).toBe(requests);
    // Nor does a subgraph get a traceparent.
    expect(userRecorder.received.slice(userRequests).map((h) => h['traceparent'])).toEqual([
      undefined,
    ]);
  });
});
