import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { compileTopic } from './topic.js';
import { TopicTemplateError } from '../errors.js';

describe('compileTopic', () => {
  const topic = compileTopic('messageAdded', 'room.{{ args.roomID }}.messages', ['roomID']);

  it('renders an argument into its subject token, without HTML escaping', () => {
    expect(topic.render({ args: { roomID: '123' } })).toBe('room.123.messages');
    expect(topic.render({ args: { roomID: "a&b<'c" } })).toBe("room.a&b<'c.messages");
  });

  it.each(['>', '*', 'a.b', '', ' ', 'a b', 'tab\t'])('refuses %j as a token', (roomID) => {
    const result = topic.render({ args: { roomID } });
    expect(result).toBeInstanceOf(GraphQLError);
    expect((result as GraphQLError).extensions['code']).toBe('BAD_USER_INPUT');
  });

  it('refuses a missing argument', () => {
    expect(topic.render({ args: {} })).toBeInstanceOf(GraphQLError);
  });

  it.each([
    ['{{ args.other }}', 'not an argument'],
    ['{{ roomID }}', 'must be args.<name>'],
    ['{{#if args.roomID}}x{{/if}}', 'only {{ args.<name> }}'],
    ['{{ lookup args "roomID" }}', 'only {{ args.<name> }}'],
    ['room.{{ args.roomID', 'Parse error'],
  ])('refuses the template %j at start-up', (template, message) => {
    expect(() => compileTopic('messageAdded', template, ['roomID'])).toThrow(TopicTemplateError);
    expect(() => compileTopic('messageAdded', template, ['roomID'])).toThrow(message);
  });
});
