import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  afterEach(() => void vi.unstubAllEnvs());

  it.each([
    ['unset', 'info', undefined],
    ['set to nothing', 'info', ''],
    ['debug', 'debug', 'debug'],
  ])('takes LOG_LEVEL %s as %s', (_, level, value) => {
    vi.stubEnv('LOG_LEVEL', value);
    expect(createLogger().level).toBe(level);
  });
});
