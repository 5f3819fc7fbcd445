import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { compileTopic } from './topic.js';
import { TopicTemplateError } from '../errors.js';
import { NATS_SUBJECT_SYNTAX } from '../providers/nats.js';

describe('compileTopic', () => {
  const topic = compileTopic(
    'messageAdded',
    'room.{{ args.roomID }}.messages',
    ['roomID'],
    NATS_SUBJECT_SYNTAX,
  );

  it('renders an argument into its subject token, without HTML escaping', () => {
    expect(topic.render({ args: { roomID: '123' } })).toBe('room.123.messages');
    // Handlebars would escape "=" as "&#x3D;".
    expect(topic.render({ args: { roomID: 'k=v' } })).toBe('room.k=v.messages');
  });

  it.each(['7f3e-4b_~:@+=%', 'A'.repeat(128), 42])('accepts %j as a token', (roomID) => {
    expect(topic.render({ args: { roomID } })).toBe(`room.${roomID}.messages`);
  });

  it.each([
    '>',
    '*',
    'a.b',
    '',
    ' ',
    'a b',
    'tab\t',
    'line\n',
    'nul\u0000',
    'é',
    '😀',
    '$SYS',
    'a,b',
    'A'.repeat(129),
    'a'.repeat(5000),
  ])('refuses %j as a token, naming the rule', (roomID) => {
    const result = topic.render({ args: { roomID } });
    expect(result).toBeInstanceOf(GraphQLError);
    expect((result as GraphQLError).message).toBe(
      'Argument "roomID" of "messageAdded" must be one subject token: 1 to 128 ASCII letters, digits or - _ ~ : @ + = %.',
    );
    expect((result as GraphQLError).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'roomID',
    });
  });

  it('refuses arguments that make a subject over 255 bytes', () => {
    const pair = compileTopic(
      'pair',
      'p.{{ args.a }}.{{ args.b }}',
      ['a', 'b'],
      NATS_SUBJECT_SYNTAX,
    );
    expect(pair.render({ args: { a: 'a'.repeat(126), b: 'b'.repeat(126) } })).toHaveLength(255);
    const result = pair.render({ args: { a: 'a'.repeat(127), b: 'b'.repeat(126) } });
    expect(result).toBeInstanceOf(GraphQLError);
    expect((result as GraphQLError).message).toBe(
      'The arguments of "pair" make a subject of 256 bytes; at most 255 are allowed.',
    );
  });

  it('refuses a missing argument', () => {
    expect(topic.render({ args: {} })).toBeInstanceOf(GraphQLError);
  });

  it.each([
    ['{{ args.other }}', 'not an argument'],
    ['{{ roomID }}', 'must be args.<name> or claims.<name>'],
    ['{{ claims.org.id }}', 'must be args.<name> or claims.<name>'],
    ['{{ claims.__proto__ }}', 'a claim name'],
    ['{{#if args.roomID}}x{{/if}}', 'only {{ args.<name> }}'],
    ['{{ lookup args "roomID" }}', 'only {{ args.<name> }}'],
    ['room.{{ args.roomID', 'Parse error'],
  ])('refuses the template %j at start-up', (template, message) => {
    const compile = () => compileTopic('messageAdded', template, ['roomID'], NATS_SUBJECT_SYNTAX);
    expect(compile).toThrow(TopicTemplateError);
    expect(compile).toThrow(message);
  });
});

describe('a topic that reads claims', () => {
  const topic = compileTopic(
    'notifications',
    'user.{{ claims.sub }}.{{ args.kind }}',
    ['kind'],
    NATS_SUBJECT_SYNTAX,
  );

  it("renders the caller's claim, and its pattern has a wildcard for it", () => {
    expect(topic.readsClaims).toBe(true);
    expect(topic.pattern).toBe('user.*.*');
    expect(topic.render({ args: { kind: 'x' }, claims: { sub: '1' } })).toBe('user.1.x');
    expect(topic.render({ args: { kind: 'x' }, claims: { sub: 42 } })).toBe('user.42.x');
  });

  it('refuses an anonymous caller and a token without the claim (UNAUTHENTICATED)', () => {
    for (const claims of [undefined, {}, { sub: null }]) {
      const result = topic.render({ args: { kind: 'x' }, claims });
      expect(result).toBeInstanceOf(GraphQLError);
      expect((result as GraphQLError).extensions).toEqual({
        code: 'UNAUTHENTICATED',
        claim: 'sub',
      });
    }
    // Only own claims count.
    const inherited = Object.create({ sub: '1' }) as Record<string, unknown>;
    expect(topic.render({ args: { kind: 'x' }, claims: inherited })).toBeInstanceOf(GraphQLError);
  });

  it.each(['>', '*', 'a.b', '', ' ', 'a b', ['1'], { id: 1 }, true])(
    "refuses the claim %j as a token, with the arguments' rule",
    (sub) => {
      const result = topic.render({ args: { kind: 'x' }, claims: { sub } });
      expect(result).toBeInstanceOf(GraphQLError);
      expect((result as GraphQLError).message).toContain('1 to 128 ASCII letters');
      expect((result as GraphQLError).extensions['code']).toBe('UNAUTHENTICATED');
    },
  );

  it('does not read claims when it names none', () => {
    const plain = compileTopic('m', 'room.{{ args.kind }}', ['kind'], NATS_SUBJECT_SYNTAX);
    expect(plain.readsClaims).toBe(false);
  });
});
