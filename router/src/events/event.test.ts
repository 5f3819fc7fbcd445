import { describe, expect, it } from 'vitest';
import { GraphQLError, buildSchema } from 'graphql';
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

  it('quotes at most 100 characters of a huge __typename, which every subscriber and the log get', () => {
    const huge = 'T'.repeat(1_000_000);
    const { message } = validate({ __typename: huge, id: '1' }) as GraphQLError;
    expect(message).toContain(`got "${'T'.repeat(99)}… (1000002 characters)`);
    expect(message.length).toBeLessThan(300);
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

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    // "\xc3(" and "\xff" are not UTF-8; decoded leniently, both would be the id "\ufffd(\ufffd".
    const bytes = Uint8Array.from([
      ...encode('{"__typename":"Message","id":"'),
      0xc3,
      0x28,
      0xff,
      ...encode('"}'),
    ]);
    const refused = parseEventPayload(bytes) as GraphQLError;
    expect(code(refused)).toBe('INVALID_EVENT');
    expect(refused.message).toBe('Invalid event: the event is not UTF-8.');
    expect(parseEventPayload(encode('{"id":"é✓😀"}'))).toEqual({ id: 'é✓😀' });
  });

  it.each(['9007199254740993', '12345678901234567890123', '-9007199254740993', '1e300'])(
    'refuses the key %s, which JSON parsing rounds, naming the field',
    (number) => {
      const parsed = parseEventPayload(
        encode(`{"__typename":"Post","org":{"id":${number}},"slug":"s"}`),
      );
      const refused = validate(parsed) as GraphQLError;
      expect(code(refused)).toBe('INVALID_EVENT');
      expect(refused.message).toContain('"id" is a number past 2^53 - 1');
      expect(code(validate({ __typename: 'Message', id: Number(number) }))).toBe('INVALID_EVENT');
    },
  );

  it('takes the largest safe integers as they are', () => {
    expect(validate({ __typename: 'Message', id: 9007199254740991 })).toEqual({
      __typename: 'Message',
      id: 9007199254740991,
    });
  });
});

describe('event keys serialized by the schema', () => {
  const schema = buildSchema(`
    type Query { x: Int }
    type Message { id: ID! }
    type Post { org: Org! number: Int! }
    type Org { id: ID! }
  `);
  const validate = createEventValidator(
    'messageAdded',
    new Map([
      ['Message', ['id']],
      ['Post', ['org { id } number']],
    ]),
    schema,
  );

  it('turns a number into the ID string a result would carry', () => {
    expect(validate({ __typename: 'Message', id: 2 })).toEqual({ __typename: 'Message', id: '2' });
    expect(validate({ __typename: 'Post', org: { id: 7 }, number: 3 })).toEqual({
      __typename: 'Post',
      org: { id: '7' },
      number: 3,
    });
  });

  it.each([
    ['a boolean ID', { __typename: 'Message', id: true }],
    ['a fractional Int', { __typename: 'Post', org: { id: '1' }, number: 1.5 }],
    ['a string Int', { __typename: 'Post', org: { id: '1' }, number: 'three' }],
  ])('refuses %s as INVALID_EVENT', (_, payload) => {
    expect(code(validate(payload))).toBe('INVALID_EVENT');
  });
});
