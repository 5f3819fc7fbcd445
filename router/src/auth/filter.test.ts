import { describe, expect, it } from 'vitest';
import { parse, print, type DocumentNode } from 'graphql';
import { composeServices } from '@apollo/composition';
import { QueryPlanner } from '@apollo/query-planner';
import { loadSupergraph } from '../schema/supergraph.js';
import { OperationCache, type PreparedOperation } from '../execution/operation.js';
import { ANONYMOUS, type Caller } from './caller.js';
import { filterOperation, requirementsOf } from './filter.js';
import { isSatisfied } from './requirements.js';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@authenticated", "@requiresScopes"])';

// Two subgraphs: `a` owns users, posts and the interface; `b` adds fields to both entities.
const a = `${LINK}
type Query {
  me: User @authenticated
  users: [User!]!
  node(id: ID!): Node
  search: [Result!]!
  post: Post
}
interface Node { id: ID! }
type User implements Node @key(fields: "id") {
  id: ID!
  name: String!
  email: String! @requiresScopes(scopes: [["users:email"], ["admin"]])
}
type Post implements Node @key(fields: "id") {
  id: ID!
  title: String
  draft: String @requiresScopes(scopes: [["posts:read", "posts:draft"]])
}
type Secret implements Node @authenticated { id: ID! code: String }
union Result = User | Post | Secret
type Mutation @authenticated { publish(title: String!): Post }
`;
const b = `${LINK}
scalar Money @requiresScopes(scopes: [["billing"]])
type User @key(fields: "id") {
  id: ID!
  salary: Money @requiresScopes(scopes: [["hr"]])
  posts: [Post!]!
}
type Post @key(fields: "id") { id: ID! views: Int @authenticated }
`;

const composed = composeServices([
  { name: 'a', url: 'http://a.invalid/graphql', typeDefs: parse(a) },
  { name: 'b', url: 'http://b.invalid/graphql', typeDefs: parse(b) },
]);
if (composed.errors) throw composed.errors[0];
const supergraph = loadSupergraph(composed.supergraphSdl, 'events');
const schema = supergraph.apiGraphQLSchema;
const rules = supergraph.authorization;

function caller(scopes: string[], authenticated = scopes.length > 0): Caller {
  return {
    claims: authenticated ? { sub: '1' } : undefined,
    scopes: new Set(scopes),
    forwardedHeaders: {},
    expiresAt: undefined,
  };
}

function filter(query: string, who: Caller = ANONYMOUS) {
  const document = parse(query);
  const result = filterOperation(schema, rules, document, undefined, (r) => isSatisfied(r, who));
  return { ...result, text: printOperation(result.document) };
}

/** The operation alone, on one line. */
function printOperation(document: DocumentNode): string {
  return print({ ...document, definitions: document.definitions.slice(0, 1) })
    .replace(/\s+/g, ' ')
    .trim();
}

describe('readAuthorizationRules', () => {
  it('reads field, type and scalar requirements from the supergraph', () => {
    expect(rules.empty).toBe(false);
    expect(rules.fields.get('User.email')).toEqual([
      {
        kind: 'scopes',
        id: '@requiresScopes[["users:email"],["admin"]]',
        anyOf: [['users:email'], ['admin']],
      },
    ]);
    expect(rules.fields.get('Query.me')).toEqual([{ kind: 'authenticated', id: '@authenticated' }]);
    expect(rules.types.get('Secret')).toEqual([{ kind: 'authenticated', id: '@authenticated' }]);
    expect(rules.types.get('Money')?.[0]).toMatchObject({ anyOf: [['billing']] });
    expect(rules.fields.get('User.name')).toBeUndefined();
  });

  it('finds nothing in a supergraph without the directives', () => {
    const plain = composeServices([
      { name: 'a', url: 'http://a.invalid', typeDefs: parse('type Query { a: String }') },
    ]);
    expect(loadSupergraph(plain.supergraphSdl!, 'events').authorization.empty).toBe(true);
  });
});

describe('filterOperation', () => {
  it('removes a field inside a list and reports its path with @ for the items', () => {
    const result = filter('{ users { name email } }');
    expect(result.text).toBe('{ users { name } }');
    expect(result.removed).toEqual([['users', '@', 'email']]);
    expect(result.empty).toBe(false);
  });

  it('keeps what any one inner list of scopes grants, and needs every scope of that list', () => {
    expect(filter('{ users { email } }', caller(['admin'])).removed).toEqual([]);
    expect(filter('{ users { email } }', caller(['users:email'])).removed).toEqual([]);
    expect(filter('{ post { draft } }', caller(['posts:read'])).removed).toEqual([
      ['post', 'draft'],
    ]);
    expect(filter('{ post { draft } }', caller(['posts:read', 'posts:draft'])).removed).toEqual([]);
  });

  it('reads @authenticated as "has claims", scopes or not', () => {
    expect(filter('{ me { name } }').removed).toEqual([['me']]);
    expect(filter('{ me { name } }', caller([], true)).removed).toEqual([]);
  });

  it('uses aliases in paths', () => {
    const result = filter('{ people: users { mail: email name } boss: me { name } }');
    expect(result.removed).toEqual([['people', '@', 'mail'], ['boss']]);
    expect(result.text).toBe('{ people: users { name } }');
  });

  it('removes a field whose selection set is left empty, and says the whole operation is', () => {
    const result = filter('{ users { email } }');
    expect(result.removed).toEqual([['users', '@', 'email']]);
    expect(result.empty).toBe(true);
    expect(result.text).toBe('');
    const partly = filter('{ users { email } post { title } }');
    expect(partly.text).toBe('{ post { title } }');
    expect(partly.empty).toBe(false);
  });

  it('applies a requirement on a field and one on its scalar type together', () => {
    expect(filter('{ users { salary } }', caller(['hr'])).removed).toEqual([
      ['users', '@', 'salary'],
    ]);
    expect(filter('{ users { salary } }', caller(['billing'])).removed).toEqual([
      ['users', '@', 'salary'],
    ]);
    expect(filter('{ users { salary } }', caller(['hr', 'billing'])).removed).toEqual([]);
  });

  it('filters fields of entities that another subgraph resolves, lists in lists', () => {
    const result = filter('{ users { name posts { title views } } }');
    expect(result.removed).toEqual([['users', '@', 'posts', '@', 'views']]);
    expect(result.text).toBe('{ users { name posts { title } } }');
  });

  it('filters named fragments where they are spread, each spread with its own path', () => {
    const result = filter('query { users { ...F } me { ...F } } fragment F on User { name email }');
    expect(result.removed).toEqual([['users', '@', 'email'], ['me']]);
    expect(result.text).toBe('{ users { ... on User { name } } }');
    // A fragment with nothing removed stays a spread.
    expect(filter('{ users { ...G } } fragment G on User { name }').text).toBe(
      '{ users { ...G } }',
    );
  });

  it('removes a fragment on a type the caller may not see', () => {
    const result = filter('{ search { __typename ... on Post { title } ... on Secret { code } } }');
    expect(result.removed).toEqual([['search', '@']]);
    expect(result.text).toBe('{ search { __typename ... on Post { title } } }');
    expect(filter('{ search { ... on Secret { code } } }', caller([], true)).removed).toEqual([]);
  });

  it('on an interface, needs what every implementation needs', () => {
    // Composition gives Node the @authenticated of Secret, which implements it.
    expect(rules.types.get('Node')).toEqual([{ kind: 'authenticated', id: '@authenticated' }]);
    expect(filter('{ node(id: "1") { id ... on User { name } } }').removed).toEqual([['node']]);
    const authenticated = filter(
      '{ node(id: "1") { id ... on Secret { code } } }',
      caller([], true),
    );
    expect(authenticated.removed).toEqual([]);
  });

  it('applies a requirement on a root type to each root field', () => {
    const result = filter(
      'mutation { publish(title: "x") { id } again: publish(title: "y") { id } }',
    );
    expect(result.removed).toEqual([['publish'], ['again']]);
    expect(result.empty).toBe(true);
    expect(filter('mutation { publish(title: "x") { id } }', caller([], true)).removed).toEqual([]);
  });

  it('never removes __typename or introspection', () => {
    expect(
      filter('{ __typename users { __typename } __schema { queryType { name } } }').removed,
    ).toEqual([]);
  });
});

describe('requirementsOf', () => {
  it('lists each requirement the operation touches once', () => {
    const found = requirementsOf(
      schema,
      rules,
      parse('{ users { email salary a: email } me { name } }'),
      undefined,
    );
    expect(found.map((r) => r.id)).toEqual([
      '@requiresScopes[["users:email"],["admin"]]',
      '@requiresScopes[["hr"]]',
      '@requiresScopes[["billing"]]',
      '@authenticated',
    ]);
    expect(requirementsOf(schema, rules, parse('{ post { title } }'), undefined)).toEqual([]);
  });
});

describe('OperationCache with authorization', () => {
  const cache = new OperationCache({
    schema: supergraph,
    planner: new QueryPlanner(supergraph.supergraph),
    eventFields: new Map(),
  });
  const prepare = (query: string, who: Caller) =>
    cache.prepare(query, undefined, who) as PreparedOperation;

  it('plans once per set of rights: callers with the same rights share the operation', () => {
    const query = '{ users { name email } }';
    const anonymous = prepare(query, ANONYMOUS);
    const other = prepare(query, caller(['unrelated']));
    const admin = prepare(query, caller(['admin']));
    const reader = prepare(query, caller(['users:email']));
    expect(other).toBe(anonymous);
    expect(reader).toBe(admin);
    expect(admin.key).toBe(print(parse(query)));
    expect(anonymous.key).not.toBe(admin.key);
    expect(anonymous.unauthorized.map((e) => e.toJSON())).toEqual([
      {
        message: 'Unauthorized field or type',
        path: ['users', '@', 'email'],
        extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
      },
    ]);
    expect(admin.unauthorized).toEqual([]);
    // The plan of what the anonymous caller sees fetches no email.
    expect(JSON.stringify(anonymous.plan)).not.toContain('email');
    expect(JSON.stringify(admin.plan)).toContain('email');
    expect(cache.size).toBe(1);
  });

  it('keeps one operation for everyone when it touches no requirement', () => {
    const query = '{ post { title } }';
    const first = prepare(query, ANONYMOUS);
    expect(prepare(query, caller(['admin']))).toBe(first);
    expect(first.key).toBe(print(parse(query)));
    expect(first.unauthorized).toEqual([]);
  });

  it('plans an operation whose removed fields were the only ones to use a variable or fragment', () => {
    const prepared = prepare(
      'query($id: ID!) { me { ...F } node(id: $id) { id } post { title } } fragment F on User { name }',
      ANONYMOUS,
    );
    expect(prepared.unauthorized.map((e) => e.path)).toEqual([['me'], ['node']]);
    expect(JSON.stringify(prepared.plan)).toContain('title');
  });

  it('keeps at most 16 plans per operation text, dropping the oldest', () => {
    const query = '{ me { name } users { email salary } post { draft } }';
    const groups = [['admin'], ['hr'], ['billing'], ['posts:read', 'posts:draft']];
    // Every subset of the four groups, without a token and with one: 32 sets of rights.
    const callers = [false, true].flatMap((authenticated) =>
      Array.from({ length: 16 }, (_, bits) =>
        caller(groups.filter((_, i) => bits & (1 << i)).flat(), authenticated),
      ),
    );
    const first = prepare(query, callers[0]!);
    const plans = callers.slice(1, 17).map((who) => prepare(query, who));
    expect(new Set(plans.map((p) => p.key)).size).toBe(16);
    expect(prepare(query, callers[16]!)).toBe(plans[15]);
    // The first caller's plan was the oldest of 17: it is planned again, to the same key.
    const again = prepare(query, callers[0]!);
    expect(again).not.toBe(first);
    expect(again.key).toBe(first.key);
  });

  it('answers an operation with everything removed with an empty plan', () => {
    const prepared = prepare('{ me { name } }', ANONYMOUS);
    expect(prepared.plan.node).toBeUndefined();
    expect(prepared.unauthorized.map((e) => e.path)).toEqual([['me']]);
  });
});
