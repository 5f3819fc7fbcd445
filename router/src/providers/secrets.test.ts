import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.js';
import { redactUrl } from './secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'edfs-secrets-'));
const file = join(dir, 'router.yaml');
writeFileSync(join(dir, 'password'), 'from-a-file\n');
writeFileSync(join(dir, 'empty'), '');
writeFileSync(join(dir, 'ca.pem'), 'PEM');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withProvider = (provider: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  parseConfig({ supergraph: 'supergraph.graphql', providers: { bus: provider } }, env, file)
    .providers['bus'];
const redis = { kind: 'redis', url: 'redis://127.0.0.1:6379' };

describe('provider secrets', () => {
  it('are read from an environment variable, a file (one trailing newline off) or as written', () => {
    expect(withProvider({ ...redis, password: { env: 'PW' } }, { PW: 'from-env' })).toEqual({
      ...redis,
      password: 'from-env',
    });
    expect(withProvider({ ...redis, password: { file: 'password' } })).toMatchObject({
      password: 'from-a-file',
    });
    expect(withProvider({ ...redis, password: 'as-written' })).toMatchObject({
      password: 'as-written',
    });
  });

  it('work for the `nats` shorthand too', () => {
    const config = parseConfig(
      { supergraph: 'supergraph.graphql', nats: { token: { env: 'TOKEN' } } },
      { TOKEN: 't0ken' },
      file,
    );
    expect(config.nats.token).toBe('t0ken');
  });

  it.each([
    [{ env: 'UNSET' }, 'providers.bus.password: environment variable UNSET is not set'],
    [{ file: 'missing' }, `providers.bus.password: cannot read ${join(dir, 'missing')} (ENOENT)`],
    [{ file: 'empty' }, `providers.bus.password: ${join(dir, 'empty')} is empty`],
    [{ env: 'A', file: 'b' }, 'providers.bus.password: a secret is { env: NAME }, { file: path }'],
  ])('stop start-up with one line naming the option: %j', (password, message) => {
    expect(() => withProvider({ ...redis, password })).toThrow(`${file}: ${message}`);
  });

  it('resolve key files against the config file, and refuse one that cannot be read', () => {
    expect(withProvider({ ...redis, tls: { ca: 'ca.pem' } })).toMatchObject({
      tls: { ca: join(dir, 'ca.pem') },
    });
    expect(() => withProvider({ kind: 'nats', nkey: 'router.nk' })).toThrow(
      `${file}: providers.bus.nkey: cannot read ${join(dir, 'router.nk')} (ENOENT)`,
    );
  });

  it.each([
    ['two ways to authenticate', { kind: 'nats', token: 't', nkey: 'ca.pem' }, 'token, nkey'],
    ['a user without a password', { kind: 'nats', user: 'u' }, '`user` and `password`'],
    ['a certificate without its key', { ...redis, tls: { cert: 'ca.pem' } }, '`tls.key`'],
  ])('refuse %s', (_, provider, message) => {
    expect(() => withProvider(provider)).toThrow(message);
  });
});

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:guest@host:5672/vhost', 'amqp://guest:***@host:5672/vhost'],
    ['redis://:pw@host', 'redis://:***@host'],
    ['nats://token@a:4222, nats://u:p@b:4222', 'nats://***@a:4222, nats://u:***@b:4222'],
    ['nats://a:4222', 'nats://a:4222'],
  ])('%s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});
