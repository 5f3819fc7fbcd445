import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfig, providerConfigs } from './config.js';

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
      default: { kind: 'nats', url: 'nats://a:4222', streams: [] },
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
  });
});
