import { describe, expect, it } from 'vitest';
import { buildSchema } from 'graphql';
import { NATS_SUBJECT_SYNTAX } from '../providers/nats.js';
import type { EventField } from './event-field.js';
import { exampleOperation } from './example-operation.js';
import { compileTopic } from './topic.js';

const schema = buildSchema(`
  type Query { x: Int }
  type Subscription {
    messageAdded(roomID: ID!, limit: Int): Message
    byFilter(filter: Filter!): Message
  }
  input Filter { text: String }
  type Message { id: ID! text: String user: User history(first: Int!): [Message] }
  type User { name: String friend: User }
`);

function binding(name: string, topic: string, args: string[]): EventField {
  return {
    name,
    provider: 'default',
    topic: compileTopic(name, topic, args, NATS_SUBJECT_SYNTAX),
    validate: () => ({ __typename: 'Message' }),
    keys: new Map([['Message', ['id']]]),
    initial: 'NONE',
  };
}

describe('exampleOperation', () => {
  it('writes the first bound subscription with example arguments and how to publish for it', () => {
    const fields = new Map([
      ['messageAdded', binding('messageAdded', 'room.{{ args.roomID }}.messages', ['roomID'])],
    ]);
    expect(exampleOperation(schema, fields)).toBe(
      [
        '# Run this subscription, then publish the key of what changed, e.g.',
        `#   nats pub room.123.messages '{"__typename":"Message","id":"1"}'`,
        `#   pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'    (in the example stack)`,
        'subscription {',
        '  messageAdded(roomID: "123", limit: 1) {',
        '    id',
        '    text',
        '    user {',
        '      name',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('selects no field that needs a token, so an anonymous first run has no error', () => {
    const fields = new Map([
      ['messageAdded', binding('messageAdded', 'room.{{ args.roomID }}.messages', ['roomID'])],
    ]);
    const requirement = { kind: 'authenticated', id: '@authenticated' } as const;
    const rules = {
      empty: false,
      types: new Map([['User', [requirement]]]),
      fields: new Map([['Message.text', [requirement]]]),
    };
    const operation = exampleOperation(schema, fields, rules)!;
    expect(operation).toContain('    id\n  }');
    expect(operation).not.toMatch(/text|user/);
    const guarded = { ...rules, fields: new Map([['Subscription.messageAdded', [requirement]]]) };
    expect(exampleOperation(schema, fields, guarded)).toBeUndefined();
  });

  it('skips a field whose required argument has no example value, and gives up without one', () => {
    const fields = new Map([['byFilter', binding('byFilter', 'f.{{ args.filter }}', ['filter'])]]);
    expect(exampleOperation(schema, fields)).toBeUndefined();
  });
});
