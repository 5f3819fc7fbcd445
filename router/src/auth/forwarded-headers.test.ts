import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { ANONYMOUS, identifyAnonymous, type Caller, type Credentials } from './caller.js';
import { forwardedKey, forwardHeaders, MAX_FORWARDED_VALUE } from './forwarded-headers.js';

const forward = forwardHeaders(identifyAnonymous, ['authorization', 'x-tenant']);
const identified = async (credentials: Credentials): Promise<Caller> => {
  const caller = await forward(credentials);
  if (caller instanceof GraphQLError) throw caller;
  return caller;
};

describe('forwardHeaders', () => {
  it('forwards the named request headers, in config order, and no other', async () => {
    const caller = await identified({
      headers: { 'x-tenant': 'acme', authorization: 'Bearer t', cookie: 'secret=1' },
    });
    expect(caller.forwardedHeaders).toEqual({ authorization: 'Bearer t', 'x-tenant': 'acme' });
    expect(Object.keys(caller.forwardedHeaders)).toEqual(['authorization', 'x-tenant']);
  });

  it('joins a repeated header as HTTP does', async () => {
    const caller = await identified({ headers: { 'x-tenant': ['a', 'b'] } });
    expect(caller.forwardedHeaders).toEqual({ 'x-tenant': 'a, b' });
  });

  it('takes a connection_init value of any case over the upgrade header', async () => {
    const caller = await identified({
      headers: { 'x-tenant': 'from-upgrade', authorization: 'Bearer upgrade' },
      connectionParams: { 'X-Tenant': 'from-init', Authorization: 42 },
    });
    // A value that is not a string is not a header: the upgrade request's is used.
    expect(caller.forwardedHeaders).toEqual({
      authorization: 'Bearer upgrade',
      'x-tenant': 'from-init',
    });
  });

  it('keeps the caller as it is when there is nothing to forward', async () => {
    expect(await forward({ headers: { cookie: 'x' } })).toBe(ANONYMOUS);
    expect(forwardHeaders(identifyAnonymous, [])).toBe(identifyAnonymous);
  });

  it.each([
    ['a line break', 'acme\r\nx-admin: true'],
    ['a NUL', 'acme\u0000'],
    ['non-ASCII', 'açme'],
    ['a value that is too long', 'a'.repeat(MAX_FORWARDED_VALUE + 1)],
  ])('refuses %s with BAD_REQUEST rather than forward it', async (_, value) => {
    const refused = await forward({ headers: {}, connectionParams: { 'x-tenant': value } });
    expect(refused).toBeInstanceOf(GraphQLError);
    expect((refused as GraphQLError).extensions['code']).toBe('BAD_REQUEST');
  });

  it('passes a refusal from the identification before it through', async () => {
    const refusal = new GraphQLError('no', { extensions: { code: 'UNAUTHENTICATED' } });
    const refusing = forwardHeaders(() => Promise.resolve(refusal), ['x-tenant']);
    expect(await refusing({ headers: { 'x-tenant': 'acme' } })).toBe(refusal);
  });
});

describe('forwardedKey', () => {
  it('tells callers apart by what they forward, and only by that', async () => {
    const a = await identified({ headers: { 'x-tenant': 'a', cookie: '1' } });
    const a2 = await identified({ headers: { 'x-tenant': 'a', cookie: '2' } });
    const b = await identified({ headers: { 'x-tenant': 'b' } });
    expect(forwardedKey(a.forwardedHeaders)).toBe(forwardedKey(a2.forwardedHeaders));
    expect(forwardedKey(a.forwardedHeaders)).not.toBe(forwardedKey(b.forwardedHeaders));
    expect(forwardedKey(ANONYMOUS.forwardedHeaders)).toBe(forwardedKey({}));
  });
});
