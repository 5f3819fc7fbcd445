import { buildSchema, GraphQLError, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { readFilterCondition } from '../schema/filter-condition.js';
import { compileFilter, MAX_FILTER_VALUES, type RenderedFilter } from './event-filter.js';
import type { TopicContext } from './topic.js';

const schema = buildSchema(`
  type Query { ok: Boolean }
  enum Kind { TEXT IMAGE }
  input Range { from: Int }
  type User { id: ID! name: String }
  type Message {
    id: ID!
    likes: Int
    score: Float
    pinned: Boolean
    kind: Kind
    tags: [String!]
    user: User
    replies: [Message!]
  }
  type Image { id: ID! user: User likes: Float }
  type Video { id: ID! user: User likes: Int }
  union Post = Message | Image
  union Clip = Message | Video
  type Subscription {
    messageAdded(roomID: ID!, userID: ID, userIDs: [ID!], n: Int, range: Range): Message
    postAdded(userID: ID): Post
    clipAdded: Clip
  }
`);

function compile(condition: unknown, field = 'messageAdded') {
  const subscription = schema.getSubscriptionType()!.getFields()[field]!;
  return compileFilter(
    subscription,
    readFilterCondition(condition),
    schema,
    `Subscription.${field}: @eventsFilter`,
    'events',
  );
}

function render(condition: unknown, context: Partial<TopicContext> = {}): RenderedFilter {
  const rendered = compile(condition).render({ args: { roomID: 'r' }, ...context });
  if (rendered instanceof GraphQLError) throw rendered;
  return rendered;
}

/** Whether the filter lets a message through, given what the router selected for it. */
function passes(filter: RenderedFilter, message: Record<string, unknown>): boolean {
  return filter.select({ data: { messageAdded: message } }, 'messageAdded') !== undefined;
}

const byUser = { IN: { fieldPath: 'user.id', values: ['{{ args.userID }}'] } };

describe('an @eventsFilter on the resolved result', () => {
  it('selects the paths it reads under aliases of its own, once per type the field returns', () => {
    const filter = compile({ OR: [byUser, { IN: { fieldPath: 'id', values: ['1'] } }, byUser] });
    expect(filter.selections).toEqual([
      { alias: '__edfsFilter0', path: ['user', 'id'] },
      { alias: '__edfsFilter1', path: ['id'] },
    ]);
    expect(filter.typeConditions).toEqual(['Message']);
    expect(compile(byUser, 'postAdded').typeConditions).toEqual(['Message', 'Image']);
  });

  it('lets through a result whose value is among the rendered values, without its own fields', () => {
    const filter = render(byUser, { args: { userID: '7' } });
    const result: ExecutionResult = {
      data: { messageAdded: { id: '1', text: 'hi', __edfsFilter0: { id: '7' } } },
    };
    expect(filter.select(result, 'messageAdded')).toEqual({
      data: { messageAdded: { id: '1', text: 'hi' } },
    });
    expect(filter.select({ data: { m: { __edfsFilter0: { id: '8' } } } }, 'm')).toBeUndefined();
  });

  it('combines conditions with AND, OR and NOT', () => {
    const likes = (n: string) => ({ IN: { fieldPath: 'likes', values: [n] } });
    const condition = { AND: [byUser, { NOT: likes('0') }, { OR: [likes('1'), likes('2')] }] };
    // One selection per distinct path, however many conditions read it.
    expect(compile(condition).selections.map((s) => s.path.join('.'))).toEqual([
      'user.id',
      'likes',
    ]);
    const filter = render(condition, { args: { userID: 'u' } });
    const message = (id: string, n: number) => ({ __edfsFilter0: { id }, __edfsFilter1: n });
    expect(passes(filter, message('u', 1))).toBe(true);
    expect(passes(filter, message('u', 2))).toBe(true);
    expect(passes(filter, message('u', 0))).toBe(false);
    expect(passes(filter, message('u', 3))).toBe(false);
    expect(passes(filter, message('v', 1))).toBe(false);
  });

  it('reads through lists: any item matching is a match', () => {
    const replies = render({ IN: { fieldPath: 'replies.user.id', values: ['7'] } });
    const reply = (id: string | null) => ({ user: id === null ? null : { id } });
    expect(passes(replies, { __edfsFilter0: [reply('1'), reply(null), reply('7')] })).toBe(true);
    expect(passes(replies, { __edfsFilter0: [reply('1'), reply(null)] })).toBe(false);
    expect(passes(replies, { __edfsFilter0: [] })).toBe(false);
    const tags = render({ IN: { fieldPath: 'tags', values: ['urgent'] } });
    expect(passes(tags, { __edfsFilter0: ['news', 'urgent'] })).toBe(true);
    expect(passes(tags, { __edfsFilter0: ['news'] })).toBe(false);
  });

  it('takes each item of a list argument given as the whole value', () => {
    const filter = render(
      { IN: { fieldPath: 'user.id', values: ['{{ args.userIDs }}', '9'] } },
      { args: { userIDs: ['1', '2'] } },
    );
    for (const id of ['1', '2', '9']) expect(passes(filter, { __edfsFilter0: { id } })).toBe(true);
    expect(passes(filter, { __edfsFilter0: { id: '1,2' } })).toBe(false);
  });

  it('matches nothing where the value is null, and nothing with a null or absent argument', () => {
    const filter = render(byUser, { args: { userID: '7' } });
    expect(passes(filter, { __edfsFilter0: null })).toBe(false);
    expect(passes(filter, {})).toBe(false);
    const absent = render(byUser);
    expect(passes(absent, { __edfsFilter0: { id: '' } })).toBe(false);
    const negated = render({ NOT: byUser }, { args: { userID: null } });
    expect(passes(negated, { __edfsFilter0: { id: '7' } })).toBe(true);
    expect(
      passes(render({ NOT: byUser }, { args: { userID: '7' } }), { __edfsFilter0: null }),
    ).toBe(true);
  });

  it('lets a result with no value for the field through as it is: it carries the errors', () => {
    const filter = render(byUser, { args: { userID: '7' } });
    const failed: ExecutionResult = {
      data: { messageAdded: null },
      errors: [new GraphQLError('not found', { path: ['messageAdded'] })],
    };
    expect(filter.select(failed, 'messageAdded')).toBe(failed);
    const invalid: ExecutionResult = { errors: [new GraphQLError('bad event')] };
    expect(filter.select(invalid, 'messageAdded')).toBe(invalid);
  });

  it("keeps its own fields' errors and value notes from the subscribers", () => {
    const filter = render({ NOT: byUser }, { args: { userID: '7' } });
    const mine = new GraphQLError('user subgraph down', {
      path: ['messageAdded', '__edfsFilter0'],
    });
    const theirs = new GraphQLError('user subgraph down', { path: ['messageAdded', 'user'] });
    const result = filter.select(
      {
        data: { messageAdded: { user: null, __edfsFilter0: null } },
        errors: [mine, theirs],
        extensions: {
          valueCompletion: [{ message: 'x', path: ['messageAdded', '__edfsFilter0', 'id'] }],
        },
      },
      'messageAdded',
    );
    expect(result).toEqual({ data: { messageAdded: { user: null } }, errors: [theirs] });
    const onlyMine = filter.select(
      { data: { messageAdded: { __edfsFilter0: null } }, errors: [mine] },
      'messageAdded',
    );
    expect(onlyMine).toEqual({ data: { messageAdded: {} } });
  });
});

describe('comparing values', () => {
  const on = (fieldPath: string, values: string[]) => render({ IN: { fieldPath, values } });

  it('compares Int and Float fields as numbers', () => {
    const likes = on('likes', ['3', '4.0', '1e1']);
    for (const n of [3, 4, 10]) expect(passes(likes, { __edfsFilter0: n })).toBe(true);
    expect(passes(likes, { __edfsFilter0: 5 })).toBe(false);
    expect(passes(likes, { __edfsFilter0: '3' })).toBe(false);
    expect(passes(on('score', ['0.5']), { __edfsFilter0: 0.5 })).toBe(true);
  });

  it('compares an Int argument with an Int field as numbers', () => {
    const filter = render(
      { IN: { fieldPath: 'likes', values: ['{{ args.n }}'] } },
      { args: { n: 3 } },
    );
    expect(passes(filter, { __edfsFilter0: 3 })).toBe(true);
    expect(passes(filter, { __edfsFilter0: 30 })).toBe(false);
  });

  it('compares ID, String and enum fields as text, exactly', () => {
    const id = on('id', ['3']);
    expect(passes(id, { __edfsFilter0: '3' })).toBe(true);
    expect(passes(id, { __edfsFilter0: '03' })).toBe(false);
    expect(passes(id, { __edfsFilter0: 'x3' })).toBe(false);
    const kind = on('kind', ['IMAGE']);
    expect(passes(kind, { __edfsFilter0: 'IMAGE' })).toBe(true);
    expect(passes(kind, { __edfsFilter0: 'image' })).toBe(false);
  });

  it('compares Boolean fields with "true" and "false"', () => {
    const pinned = on('pinned', ['true']);
    expect(passes(pinned, { __edfsFilter0: true })).toBe(true);
    expect(passes(pinned, { __edfsFilter0: false })).toBe(false);
    expect(passes(pinned, { __edfsFilter0: 'true' })).toBe(false);
  });

  it('renders templates inside text', () => {
    const filter = render(
      { IN: { fieldPath: 'id', values: ['{{ args.roomID }}-{{ claims.sub }}'] } },
      { args: { roomID: 'r' }, claims: { sub: 'u1' } },
    );
    expect(passes(filter, { __edfsFilter0: 'r-u1' })).toBe(true);
  });
});

describe('rendering per subscription', () => {
  it('keys each rendering by its values, so different ones never share a group', () => {
    const filter = compile(byUser);
    const key = (userID: unknown) =>
      (filter.render({ args: { roomID: 'r', userID } }) as RenderedFilter).key;
    expect(key('1')).toBe(key('1'));
    expect(key('1')).not.toBe(key('2'));
    expect(key(null)).not.toBe(key('1'));
  });

  it("reads the caller's claims, and refuses a caller without them (UNAUTHENTICATED)", () => {
    const mine = compile({ IN: { fieldPath: 'user.id', values: ['{{ claims.sub }}'] } });
    expect(mine.readsClaims).toBe(true);
    expect(compile(byUser).readsClaims).toBe(false);
    const ok = mine.render({ args: {}, claims: { sub: '7' } }) as RenderedFilter;
    expect(passes(ok, { __edfsFilter0: { id: '7' } })).toBe(true);
    const groups = compile({ IN: { fieldPath: 'user.id', values: ['{{ claims.groups }}'] } });
    const many = groups.render({ args: {}, claims: { groups: ['a', 'b'] } }) as RenderedFilter;
    expect(passes(many, { __edfsFilter0: { id: 'b' } })).toBe(true);
    for (const claims of [undefined, {}, { sub: { id: 1 } }, { sub: true }]) {
      const refused = mine.render({ args: {}, claims });
      expect(refused).toBeInstanceOf(GraphQLError);
      expect((refused as GraphQLError).extensions).toEqual({
        code: 'UNAUTHENTICATED',
        claim: 'sub',
      });
    }
  });

  it(`refuses more than ${MAX_FILTER_VALUES} values (BAD_USER_INPUT)`, () => {
    const filter = compile({ IN: { fieldPath: 'user.id', values: ['{{ args.userIDs }}'] } });
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i));
    expect(filter.render({ args: { userIDs: ids(MAX_FILTER_VALUES) } })).not.toBeInstanceOf(
      GraphQLError,
    );
    const refused = filter.render({ args: { userIDs: ids(MAX_FILTER_VALUES + 1) } });
    expect((refused as GraphQLError).extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });
});

describe('checking a filter at start-up', () => {
  const IN = (fieldPath: string, value: string) => ({ IN: { fieldPath, values: [value] } });

  it.each([
    [IN('author.id', '1'), '"author.id": Message has no field "author"'],
    [IN('user', '1'), '"user" is User; it must end at a scalar or an enum'],
    [IN('id.length', '1'), '"id.length": ID has no fields (at "length")'],
    [
      IN('id', '{{ args.roomId }}'),
      '"{{ args.roomId }}": "args.roomId" is not an argument of the field',
    ],
    [IN('id', '{{ userID }}'), 'must be args.<name> or claims.<name>'],
    [IN('id', '{{ args.range }}'), 'argument "range" must be a scalar, an enum or a list of them'],
    [IN('id', 'u-{{ args.userIDs }}'), 'the list argument "userIDs" must be the whole value'],
    [
      IN('likes', 'many'),
      'condition.IN.values[0] "many" is never the value of a field of that type (number)',
    ],
    [IN('pinned', 'yes'), '"yes" is never the value of a field of that type (boolean)'],
    [
      { NOT: { AND: [byUser, IN('id', '{{ args.x }}')] } },
      'condition.NOT.AND[1].IN.values[0] "{{ args.x }}"',
    ],
  ])('refuses %j, naming the field', (condition, message) => {
    const check = () => compile(condition);
    expect(check).toThrow(SchemaError);
    expect(check).toThrow(`[events] Subscription.messageAdded: @eventsFilter: `);
    expect(check).toThrow(message);
  });

  it('needs the path on every type a union field returns, ending at one type', () => {
    expect(() => compile(IN('user.id', '1'), 'postAdded')).not.toThrow();
    expect(() => compile(IN('tags', '1'), 'postAdded')).toThrow(
      '"tags": Image has no field "tags"',
    );
    expect(() => compile(IN('likes', '1'), 'postAdded')).toThrow(
      '"likes" is Int or Float; it must be one type',
    );
  });
});
