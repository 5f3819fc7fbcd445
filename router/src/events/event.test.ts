import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { createEventValidator, parseEventPayload } from './event.js';

const encode = (text: string) => new TextEncoder().encode(text);
const code = (result: unknown) => (result as GraphQLError).extensions['code'];

describe('event validation', () => {
  const validate = createEventValidator(
    'messageAdded',
    new Map([
      ['Message', ['id']],
      ['Post', ['id', 'org { id } slug']],
    ]),
  );

  it('keeps __typename and the key, and drops extra fields', () => {
    expect(validate({ __typename: 'Message', id: '1', text: 'not from the event' })).toEqual({
      __typename: 'Message',
      id: '1',
    });
  });

  it('accepts a nested key when the first key is missing', () => {
    expect(validate({ __typename: 'Post', org: { id: 7, x: 1 }, slug: 's' })).toEqual({
      __typename: 'Post',
      org: { id: 7 },
      slug: 's',
    });
  });

  it.each([
    ['not an object', [1]],
    ['null', null],
    ['no __typename', { id: '1' }],
    ['a type the field cannot return', { __typename: 'User', id: '1' }],
    ['a missing key', { __typename: 'Message' }],
    ['a null key', { __typename: 'Message', id: null }],
    ['an object where the key is a scalar', { __typename: 'Message', id: { a: 1 } }],
  ])('refuses %s with INVALID_EVENT', (_, payload) => {
    const result = validate(payload);
    expect(result).toBeInstanceOf(GraphQLError);
    expect(code(result)).toBe('INVALID_EVENT');
  });

  it('says which types and keys were expected', () => {
    expect(String((validate({ __typename: 'User' }) as GraphQLError).message)).toContain(
      'Message, Post',
    );
    expect(String((validate({ __typename: 'Message' }) as GraphQLError).message)).toContain('"id"');
  });

  it('parses JSON bytes, or answers INVALID_EVENT', () => {
    expect(parseEventPayload(encode('{"a":1}'))).toEqual({ a: 1 });
    expect(code(parseEventPayload(encode('{nope')))).toBe('INVALID_EVENT');
  });
});
