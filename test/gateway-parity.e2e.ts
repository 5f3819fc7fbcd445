import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { besideApollo, send, type Case } from './support/federation/parity.js';

const cases: Case[] = [
  {
    name: 'entity join across three subgraphs',
    query: '{ topProducts { upc name price inStock reviews { body author { name } } } }',
  },
  { name: '@requires with a flat field set', query: '{ topProducts { name shippingEstimate } }' },
  {
    name: '@requires with a nested field set',
    query: '{ topProducts { name shippingClass dimensions { unit } } }',
  },
  {
    name: '@provides: the username comes with the review',
    query: '{ latestReviews { body author { id username } } }',
  },
  {
    name: '@provides beside a field it does not provide',
    query: '{ latestReviews(first: 2) { author { username name memberSince } } }',
  },
  {
    name: '@shareable value type from two subgraphs',
    query: '{ product(upc: "1") { dimensions { width height unit } shippingClass } }',
  },
  {
    name: 'interface with fragments on its implementations',
    query:
      '{ media { __typename id title ... on Book { author } ... on Movie { director minutes } } }',
  },
  {
    name: '@interfaceObject fields on an interface entity',
    query: '{ media { title reviews { body author { name } } ... on Book { author } } }',
  },
  {
    name: 'union with inline fragments',
    query:
      '{ search(text: "ta") { __typename ... on Product { upc name inStock } ... on Brand { name country } } }',
  },
  {
    name: 'nested lists of entities',
    query:
      '{ user(id: "1") { name reviews { product { name reviews { author { username } } } } } }',
  },
  {
    name: 'a nullable field failing in the root subgraph',
    query: '{ product(upc: "1") { name flaky } }',
  },
  {
    name: 'a nullable field failing in an entity fetch',
    query: '{ topProducts { upc stockNote } }',
  },
  {
    name: 'a non-null field failing: the null bubbles to its parent',
    query: '{ product(upc: "3") { name restockDays } }',
  },
  {
    name: 'a non-null failure inside a non-null list',
    query: '{ me { name } topProducts { upc restockDays } }',
  },
  {
    name: 'a mutation with variables',
    query:
      'mutation Create($input: ProductInput!) { createProduct(input: $input) { upc name category inStock shippingEstimate } }',
    variables: { input: { upc: '7', name: 'Lamp', price: 40, category: 'FURNITURE' } },
  },
  {
    name: 'mutation fields run one after the other',
    query: `mutation {
      p: createProduct(input: { upc: "9", name: "Stool", price: 30, category: FURNITURE }) { upc }
      r: addReview(input: { upc: "9", authorID: "2", body: "Fine.", rating: 3 }) {
        id body product { name reviewCount } author { username name }
      }
    }`,
  },
  {
    name: 'variables and aliases',
    query:
      'query Top($first: Int, $cat: Category) { cheap: topProducts(first: $first, category: $cat) { id: upc title: name stock: inStock } other: product(upc: "4") { name } }',
    variables: { first: 2, cat: 'FURNITURE' },
  },
  {
    name: '@skip and @include',
    query:
      'query ($withReviews: Boolean!, $noPrice: Boolean!) { topProducts(first: 2) { name price @skip(if: $noPrice) inStock @include(if: $withReviews) reviews @include(if: $withReviews) { rating } } }',
    variables: { withReviews: true, noPrice: true },
  },
  {
    name: '__typename at every level',
    query:
      '{ __typename topProducts(first: 1) { __typename reviews { __typename author { __typename } } } }',
  },
  {
    name: 'an enum and a custom scalar',
    query:
      '{ topProducts(category: FURNITURE) { category releasedAt reviews { createdAt } } product(upc: "3") { releasedAt } }',
  },
  {
    // The subgraph answers a value the API schema does not have (an @inaccessible enum
    // value): the field is null, and extensions.valueCompletion says why.
    name: 'a subgraph value the API schema cannot show',
    query: '{ product(upc: "5") { name category } }',
  },
  {
    name: 'full introspection',
    query: getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      inputValueDeprecation: true,
    }),
  },
  { name: 'an entity that does not exist', query: '{ product(upc: "404") { name inStock } }' },
  {
    name: 'named fragments',
    query:
      'query { topProducts(first: 2) { ...P reviews { author { ...U } } } } fragment P on Product { upc name } fragment U on User { id username }',
  },
  {
    name: 'operationName picks one of several operations',
    query: 'query A { me { name } } query B { product(upc: "2") { name inStock } }',
    operationName: 'B',
  },
  {
    name: 'introspection hides @inaccessible fields',
    query: '{ __type(name: "Product") { fields { name } } }',
  },
];

describe('a supergraph without an events graph, beside Apollo Gateway', () => {
  const endpoints = besideApollo();

  it.each(cases)('$name', async ({ query, variables, operationName }) => {
    const theirs = await send(endpoints.gateway.url, query, variables, operationName);
    const ours = await send(endpoints.router.url, query, variables, operationName);
    // The whole body: data, and every error's message, path and extensions.
    expect(ours.body).toEqual(theirs.body);
    expect(ours.status).toBe(theirs.status);
  });
});
