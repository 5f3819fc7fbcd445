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
