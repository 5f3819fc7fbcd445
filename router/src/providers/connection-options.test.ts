import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  amqpConnectionOptions,
  amqpHeartbeatUrl,
  natsConnectionOptions,
  redisConnectionOptions,
} from './connection-options.js';

const dir = mkdtempSync(join(tmpdir(), 'edfs-connection-options-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, 'CA PEM');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amqpHeartbeatUrl', () => {
  it('asks for a heartbeat in whole seconds, rounded up', () => {
    expect(amqpHeartbeatUrl('amqp://h:5672/v', 10_000)).toBe('amqp://h:5672/v?heartbeat=10');
    expect(amqpHeartbeatUrl('amqp://h:5672', 1_500)).toBe('amqp://h:5672?heartbeat=2');
    expect(amqpHeartbeatUrl('amqp://h:5672', 100)).toBe('amqp://h:5672?heartbeat=1');
  });

  it('keeps the heartbeat the URL asks for, and its other options', () => {
    expect(amqpHeartbeatUrl('amqp://h:5672?heartbeat=0&frameMax=8192', 10_000)).toBe(
      'amqp://h:5672?heartbeat=0&frameMax=8192',
    );
    expect(amqpHeartbeatUrl('amqp://h:5672?frameMax=8192', 10_000)).toBe(
      'amqp://h:5672?frameMax=8192&heartbeat=10',
    );
  });
});

describe('amqpConnectionOptions', () => {
  it('leaves a URL without security as it is', () => {
    expect(amqpConnectionOptions('amqp://guest:guest@127.0.0.1:5672', {})).toEqual({
      url: 'amqp://guest:guest@127.0.0.1:5672',
      socket: {},
    });
  });

  it('turns amqp:// into amqps:// for `tls`, with the CA read', () => {
    expect(amqpConnectionOptions('amqp://h:5671/vhost', { tls: { ca } })).toEqual({
      url: 'amqps://h:5671/vhost',
      socket: { ca: 'CA PEM' },
    });
  });

  it('takes the user and password given over the URL’s, each on its own', () => {
    const login = (security: { username?: string; password?: string }) => {
      const { credentials } = amqpConnectionOptions('amqp://url%40user:url-pw@h', security).socket;
      return { username: credentials?.username, password: credentials?.password };
    };
    expect(login({ password: 'pw' })).toEqual({ username: 'url@user', password: 'pw' });
    expect(login({ username: 'router' })).toEqual({ username: 'router', password: 'url-pw' });
  });
});

describe('natsConnectionOptions and redisConnectionOptions', () => {
  it('pass the servers, the way to authenticate and TLS', () => {
    expect(
      natsConnectionOptions('nats://a:4222, nats://b:4222', {
        user: 'u',
        password: 'p',
        tls: { ca },
      }),
    ).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'u',
      pass: 'p',
      tls: { ca: 'CA PEM' },
    });
    expect(redisConnectionOptions({ username: 'u', password: 'p', tls: {} })).toEqual({
      username: 'u',
      password: 'p',
      tls: {},
    });
  });
});
