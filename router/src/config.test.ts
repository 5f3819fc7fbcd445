import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
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

describe('the command line over the file', () => {
  it('takes --supergraph for a file that names no subgraphs', () => {
    expect(() => parseConfig({}, {})).toThrow('name at least one subgraph');
    const config = parseConfig({}, {}, '/etc/edfs/router.yaml', { supergraph: 'sg.graphql' });
    expect(config.supergraph).toBe(resolve('sg.graphql'));
    expect(config.events.schema).toBeUndefined();
  });
});

describe('the authentication config', () => {
  it('is off by default and resolves JWKS files against the config file', () => {
    expect(parseConfig(minimal, {}).authentication).toEqual({ required: false });
    const config = parseConfig(
      {
        ...minimal,
        authentication: { jwt: { jwks: [{ file: 'keys.json' }, { url: 'http://a/k' }] } },
      },
      {},
      '/etc/edfs/router.yaml',
    );
    expect(config.authentication.jwt).toEqual({
      header: 'Authorization',
      jwks: [
        { file: '/etc/edfs/keys.json' },
        { url: 'http://a/k', refreshMs: 600_000, cooldownMs: 30_000, timeoutMs: 5_000 },
      ],
    });
  });

  it('refuses required without jwt, and the none algorithm', () => {
    expect(() => parseConfig({ ...minimal, authentication: { required: true } }, {})).toThrow(
      ConfigError,
    );
    const jwt = { jwks: [{ file: 'k.json' }], algorithms: ['none'] };
    expect(() => parseConfig({ ...minimal, authentication: { jwt } }, {})).toThrow(ConfigError);
  });
});

describe('the cors config', () => {
  it('allows no other origin by default', () => {
    expect(parseConfig(minimal, {}).cors).toEqual({
      origins: [],
      methods: ['GET', 'POST'],
      headers: ['content-type', 'accept', 'authorization', 'last-event-id'],
      credentials: false,
      maxAgeSeconds: 600,
    });
  });

  it('takes exact origins and "*"', () => {
    const origins = ['https://app.example.com', 'http://127.0.0.1:5173', 'http://[::1]:3000', '*'];
    expect(parseConfig({ ...minimal, cors: { origins } }, {}).cors.origins).toEqual(origins);
  });

  it.each([
    'app.example.com',
    'https://app.example.com/',
    'https://a.test/path',
    'https://*.a.test',
  ])('refuses the origin %j', (origin) => {
    expect(() => parseConfig({ ...minimal, cors: { origins: [origin] } }, {})).toThrow(ConfigError);
  });

  it('refuses credentials with "*", which browsers refuse', () => {
    expect(() =>
      parseConfig({ ...minimal, cors: { origins: ['*'], credentials: true } }, {}),
    ).toThrow(/credentials/);
  });
});

describe('the production switches and router-wide limits', () => {
  it('default to what the example stack and the benchmark stay inside', () => {
    const config = parseConfig(minimal, {});
    expect(config.introspection).toBe(true);
    expect(config.maskSubgraphErrors).toBe(false);
    expect(config.limits).toMatchObject({ maxConnections: 20_000, maxSubscriptions: 50_000 });
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
