import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

function setup(subjects = 0, brokers = new Map([['default', true]])) {
  return createMetrics({
    fields: ['messageAdded'],
    subgraphs: ['message', 'user'],
    brokerSubjects: () => subjects,
    brokersConnected: () => brokers,
    processMetrics: false,
  });
}

async function text(metrics: ReturnType<typeof setup>): Promise<string> {
  return (await metrics.scrape()).body;
}

describe('createMetrics', () => {
  it('has every series of a known label at 0 before anything happens', async () => {
    const body = await text(setup());
    expect(body).toContain('edfs_events_received_total{field="messageAdded"} 0');
    expect(body).toContain('edfs_subscriptions{field="messageAdded",transport="multipart"} 0');
    expect(body).toContain('edfs_subgraph_requests_total{subgraph="user",outcome="timeout"} 0');
    expect(body).not.toContain('process_cpu');
  });

  it('counts deliveries by the group, not the subscriber', async () => {
    const metrics = setup();
    const field = metrics.field('messageAdded');
    field.eventReceived();
    field.delivered(250);
    field.eventDelivered(0.002);
    const body = await text(metrics);
    expect(body).toContain('edfs_events_received_total{field="messageAdded"} 1');
    expect(body).toContain('edfs_deliveries_total{field="messageAdded"} 250');
    expect(body).toContain('edfs_event_delivery_seconds_count{field="messageAdded"} 1');
  });

  it('resolves the hooks of a field once', () => {
    const metrics = setup();
    expect(metrics.field('messageAdded')).toBe(metrics.field('messageAdded'));
  });

  it('gauges subscriptions per transport', async () => {
    const metrics = setup();
    const field = metrics.field('messageAdded');
    field.subscriptionOpened('sse');
    field.subscriptionOpened('sse');
    field.subscriptionOpened('legacy-ws');
    field.subscriptionClosed('sse');
    const body = await text(metrics);
    expect(body).toContain('edfs_subscriptions{field="messageAdded",transport="sse"} 1');
    expect(body).toContain('edfs_subscriptions{field="messageAdded",transport="legacy-ws"} 1');
  });

  it('reads the broker subjects at each scrape', async () => {
    expect(await text(setup(7))).toContain('edfs_broker_subjects 7');
  });

  it('reads whether each broker is connected at each scrape', async () => {
    const brokers = new Map([
      ['default', true],
      ['cache', false],
    ]);
    const metrics = setup(0, brokers);
    let body = await text(metrics);
    expect(body).toContain('edfs_broker_connected{provider="default"} 1');
    expect(body).toContain('edfs_broker_connected{provider="cache"} 0');
    brokers.set('default', false);
    body = await text(metrics);
    expect(body).toContain('edfs_broker_connected{provider="default"} 0');
  });

  it('counts supergraph reloads by outcome, each series there from the start', async () => {
    const metrics = setup();
    expect(await text(metrics)).toContain('edfs_supergraph_reloads_total{outcome="refused"} 0');
    metrics.supergraphReload('reloaded');
    const body = await text(metrics);
    expect(body).toContain('edfs_supergraph_reloads_total{outcome="reloaded"} 1');
    expect(body).toContain('edfs_supergraph_reloads_total{outcome="refused"} 0');
  });

  it('puts a name outside the fixed sets under "other", never the name itself', async () => {
    const metrics = setup();
    metrics.field('fromSomewhere').eventReceived();
    metrics.subgraphRequestFinished('nowhere', 'ok', 0.01);
    const body = await text(metrics);
    expect(body).toContain('edfs_events_received_total{field="other"} 1');
    expect(body).toContain('edfs_subgraph_requests_total{subgraph="other",outcome="ok"} 1');
    expect(body).not.toContain('fromSomewhere');
    expect(body).not.toContain('nowhere');
  });

  it('keeps each router on its own registry', async () => {
    const one = setup();
    const two = setup();
    one.subscriptionRefused('max_subscriptions');
    const refused = 'edfs_subscriptions_refused_total{reason="max_subscriptions"}';
    expect(await text(one)).toContain(`${refused} 1`);
    expect(await text(two)).toContain(`${refused} 0`);
  });

  it('counts refusals by their reason, each series there from the start', async () => {
    const metrics = setup();
    metrics.connectionRefused('origin');
    metrics.subscriptionRefused('max_subscriptions_per_connection');
    const body = await text(metrics);
    expect(body).toContain('edfs_connections_refused_total{reason="origin"} 1');
    expect(body).toContain('edfs_connections_refused_total{reason="max_connections"} 0');
    expect(body).toContain(
      'edfs_subscriptions_refused_total{reason="max_subscriptions_per_connection"} 1',
    );
  });
});
