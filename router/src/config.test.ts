import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadConfig, parseConfig, providerConfigs } from './config.js';

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

  it.each(['metrics', '/graphql', '/health', '/ready', '/graphiql/x', '/a b'])(
    'refuses %j',
    (path) => {
      expect(() => parseConfig({ ...minimal, metrics: { path } }, {})).toThrow(ConfigError);
    },
  );
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

describe('the providers config', () => {
  const providers = {
    cache: { kind: 'redis', url: 'redis://127.0.0.1:6390' },
    rabbit: { kind: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5690', exchange: 'shop' },
  };

  it('makes `nats` the default provider, beside the named ones, with their defaults', () => {
    const config = parseConfig(
      {
        ...minimal,
        nats: { url: 'nats://a:4222' },
        providers: { ...providers, bare: { kind: 'amqp' } },
      },
      {},
    );
    expect(Object.fromEntries(providerConfigs(config))).toEqual({
      cache: { kind: 'redis', url: 'redis://127.0.0.1:6390' },
      rabbit: { kind: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5690', exchange: 'shop' },
      bare: { kind: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'edfs' },
      default: { kind: 'nats', url: 'nats://a:4222', streams: [], pingIntervalMs: 10_000 },
    });
  });

  it('takes `providers.default` instead of `nats`, of any kind', () => {
    const config = parseConfig({ ...minimal, providers: { default: providers.cache } }, {});
    expect(providerConfigs(config).get('default')).toEqual(providers.cache);
  });

  it('refuses `nats` and `providers.default` together', () => {
    expect(() =>
      parseConfig({ ...minimal, nats: {}, providers: { default: providers.cache } }, {}),
    ).toThrow(/`nats` is the shorthand for `providers.default`/);
  });

  it.each([
    ['an unknown kind', { kind: 'kafka', url: 'kafka://x' }],
    ['a URL of another broker', { kind: 'redis', url: 'amqp://x' }],
    ['an unknown option', { kind: 'redis', url: 'redis://x', exchange: 'e' }],
  ])('refuses %s', (_, provider) => {
    expect(() => parseConfig({ ...minimal, providers: { bad: provider } }, {})).toThrow(
      ConfigError,
    );
  });

  it('takes PROVIDER_<ID>_URL, and NATS_URL for a NATS default', () => {
    const env = {
      NATS_URL: 'nats://env:4222',
      PROVIDER_CACHE_URL: 'redis://env:6379',
      PROVIDER_RABBIT_URL: 'amqps://u:p@env:5671',
    };
    const config = parseConfig({ ...minimal, providers }, env);
    expect(config.nats.url).toBe('nats://env:4222');
    expect(config.providers['cache']!.url).toBe('redis://env:6379');
    expect(config.providers['rabbit']!.url).toBe('amqps://u:p@env:5671');
    const named = parseConfig(
      { ...minimal, providers: { default: { kind: 'nats', url: 'nats://file:4222' } } },
      { NATS_URL: 'nats://env:4222' },
    );
    expect(named.providers['default']!.url).toBe('nats://env:4222');
    expect(
      parseConfig(minimal, { NATS_URL: 'nats://a:1', PROVIDER_DEFAULT_URL: 'nats://b:1' }).nats.url,
    ).toBe('nats://b:1');
    // Set to nothing is not set, as a deployment template leaves it.
    expect(
      parseConfig(minimal, { NATS_URL: 'nats://a:1', PROVIDER_DEFAULT_URL: '' }).nats.url,
    ).toBe('nats://a:1');
  });
});

describe('NATS server lists', () => {
  it.each([
    'nats://127.0.0.1:4222',
    '127.0.0.1:4222',
    'localhost',
    'tls://nats.example.com:4443',
    'nats://user:secret@[::1]:4222/',
    'nats://a:4222, nats://b:4222,c:4222',
  ])('takes %j', (url) => {
    expect(parseConfig({ ...minimal, nats: { url } }, {}).nats.url).toBe(url);
  });

  // A typo must stop the router at start, not look like a NATS server that is down.
  it.each([
    'nats://127.0.0.1:notaport',
    'nats://127.0.0.1:99999',
    'http://127.0.0.1:4222',
    'nats://',
    'nats://host:4222/path',
    'nats://a:4222,,nats://b:4222',
    'nats://a b:4222',
  ])('refuses %j, from the file or NATS_URL', (url) => {
    const message = /each server is host\[:port\][\s\S]*at nats\.url/;
    expect(() => parseConfig({ ...minimal, nats: { url } }, {})).toThrow(message);
    expect(() => parseConfig(minimal, { NATS_URL: url })).toThrow(message);
    const providers = { default: { kind: 'nats', url } };
    expect(() => parseConfig({ ...minimal, providers }, {})).toThrow(/each server is/);
  });
});

describe('numbers from the environment', () => {
  it.each(['65536', '-1', '4000.5'])('refuse PORT=%j as a port, naming the variable', (port) => {
    expect(() => parseConfig(minimal, { PORT: port })).toThrow(
      `PORT=${JSON.stringify(port)} is not a TCP port (0-65535)`,
    );
  });

  it.each(['abc', ' ', '4000x', '0x1F90', '4e3', 'Infinity'])(
    'refuse PORT=%j, naming the variable',
    (port) => {
      expect(() => parseConfig(minimal, { PORT: port })).toThrow(
        `PORT=${JSON.stringify(port)} is not a number`,
      );
    },
  );

  it('take PORT set to nothing as unset', () => {
    expect(parseConfig(minimal, { PORT: '' }).listen.port).toBe(4000);
  });
});

describe('events timeouts', () => {
  it('default to 5 s, and take the config or the environment', () => {
    expect(parseConfig(minimal, {}).events).toMatchObject({
      requestTimeoutMs: 5000,
      publishTimeoutMs: 5000,
    });
    const events = { requestTimeoutMs: 100, publishTimeoutMs: 200 };
    expect(parseConfig({ ...minimal, events }, {}).events).toMatchObject(events);
    const env = { EVENTS_REQUEST_TIMEOUT_MS: '300', EVENTS_PUBLISH_TIMEOUT_MS: '400' };
    expect(parseConfig({ ...minimal, events }, env).events).toMatchObject({
      requestTimeoutMs: 300,
      publishTimeoutMs: 400,
    });
    expect(() => parseConfig(minimal, { EVENTS_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(
      new ConfigError('EVENTS_REQUEST_TIMEOUT_MS="soon" is not a number', undefined),
    );
    expect(() => parseConfig(minimal, { EVENTS_PUBLISH_TIMEOUT_MS: '1.5' })).toThrow(
      new ConfigError(
        'EVENTS_PUBLISH_TIMEOUT_MS="1.5" is not a whole number of milliseconds (1 or more)',
        undefined,
      ),
    );
  });
});

describe('a config file', () => {
  it('takes YAML anchors, merge keys and top-level x- keys to hold them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edfs-config-'));
    try {
      const file = join(dir, 'router.yaml');
      writeFileSync(
        file,
        [
          'x-subgraph: &subgraph',
          '  url: http://subgraphs:4000/graphql',
          'events: { schema: events.graphql }',
          'subgraphs:',
          '  message: { <<: *subgraph, schema: message.graphql }',
          '  user: { <<: *subgraph, schema: user.graphql, url: http://users/graphql }',
          '',
        ].join('\n'),
      );
      const { subgraphs } = loadConfig(file, {});
      expect(subgraphs['message']!.url).toBe('http://subgraphs:4000/graphql');
      expect(subgraphs['user']!.url).toBe('http://users/graphql');
      writeFileSync(file, 'events: { schema: events.graphql }\nsupergraph: s.graphql\ny-typo: 1\n');
      expect(() => loadConfig(file, {})).toThrow(/y-typo/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
