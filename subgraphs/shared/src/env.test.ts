import { describe, expect, it } from 'vitest';
import { readSubgraphEnvironment } from './env.js';
import { SubgraphConfigError } from './errors.js';

describe('readSubgraphEnvironment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(readSubgraphEnvironment({}, 4001)).toEqual({
      port: 4001,
      host: '127.0.0.1',
      natsUrl: 'nats://127.0.0.1:4222',
    });
  });

  it('reads PORT, HOST and NATS_URL', () => {
    const env = { PORT: '0', HOST: '0.0.0.0', NATS_URL: 'nats://nats:4222' };
    expect(readSubgraphEnvironment(env, 4001)).toEqual({
      port: 0,
      host: '0.0.0.0',
      natsUrl: 'nats://nats:4222',
    });
  });

  it.each(['abc', '-1', '65536', '40.5'])('refuses PORT=%s', (port) => {
    expect(() => readSubgraphEnvironment({ PORT: port }, 4001)).toThrow(SubgraphConfigError);
  });
});
