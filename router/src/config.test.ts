import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfig } from './config.js';

const minimal = { events: { schema: 'events.graphql' }, supergraph: 'supergraph.graphql' };

describe('the metrics config', () => {
  it('serves /metrics by default', () => {
    expect(parseConfig(minimal, {}).metrics).toEqual({ enabled: true, path: '/metrics' });
  });

  it('takes another path, or none', () => {
    const config = parseConfig({ ...minimal, metrics: { path: '/internal/prom' } }, {});
    expect(config.metrics).toEqual({ enabled: true, path: '/internal/prom' });
    expect(parseConfig({ ...minimal, metrics: { enabled: false } }, {}).metrics.enabled).toBe(
      false,
    );
  });

  it.each(['metrics', '/graphql', '/health', '/graphiql/x', '/a b'])('refuses %j', (path) => {
    expect(() => parseConfig({ ...minimal, metrics: { path } }, {})).toThrow(ConfigError);
  });
});

describe('the tracing config', () => {
  it('is off by default, pointed at a local collector', () => {
    expect(parseConfig(minimal, {}).tracing).toEqual({
      enabled: false,
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      serviceName: 'edfs-router',
      sampleRatio: 1,
      eventSampleRatio: 0.01,
    });
  });

  it('takes the standard OpenTelemetry variables', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'r1' };
    expect(parseConfig(minimal, base).tracing).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      serviceName: 'r1',
    });
    const traces = { ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9/otlp' };
    expect(parseConfig(minimal, traces).tracing.endpoint).toBe('http://traces:9/otlp');
  });

  it.each([{ sampleRatio: 2 }, { eventSampleRatio: -0.1 }, { endpoint: 'grpc://x:4317' }])(
    'refuses %j',
    (tracing) => {
      expect(() => parseConfig({ ...minimal, tracing }, {})).toThrow(ConfigError);
    },
  );
});
