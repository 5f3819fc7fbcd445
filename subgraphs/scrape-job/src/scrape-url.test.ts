import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { parseScrapeUrl } from './scrape-url.js';

function refusal(input: string): GraphQLError {
  try {
    parseScrapeUrl(input);
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
  throw new Error(`${input} was accepted`);
}

describe('parseScrapeUrl', () => {
  it.each(['http://example.com', 'https://example.com/a?b=c#d', ' https://127.0.0.1:8080/ '])(
    'accepts %s',
    (input) => {
      expect(parseScrapeUrl(input).href).toBe(new URL(input.trim()).href);
    },
  );

  it.each(['', 'example.com', '/relative/path', 'not a url'])(
    'refuses %j as not absolute',
    (input) => {
      const error = refusal(input);
      expect(error.extensions['code']).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('not an absolute URL');
    },
  );

  it.each([
    'ftp://example.com/file',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,hi',
  ])('refuses the scheme of %s', (input) => {
    const error = refusal(input);
    expect(error.extensions['code']).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/scheme ".+:" is not supported; use http: or https:/);
  });
});
