import { describe, expect, it } from 'vitest';
import { httpMediaType, negotiate, parseAccept } from './accept.js';

const on = { graphiql: true };
const off = { graphiql: false };

describe('negotiate', () => {
  it.each([
    ['text/event-stream', 'sse'],
    ['multipart/mixed;subscriptionSpec=1.0', 'multipart'],
    ['multipart/mixed; subscriptionSpec="1.0"', 'multipart'],
    // Apollo Client's header for a subscription.
    [
      'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9',
      'multipart',
    ],
    ['application/graphql-response+json,application/json;q=0.9', 'http'],
    ['application/json, text/event-stream', 'http'],
    ['application/json;q=0.5, text/event-stream', 'sse'],
    ['*/*', 'http'],
    [undefined, 'http'],
    // A browser.
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'graphiql'],
    // Incremental delivery (@defer) is not offered: graphql-http answers 406.
    ['multipart/mixed', 'http'],
    ['multipart/mixed;subscriptionSpec=2.0', 'http'],
    ['image/png', 'http'],
    ['text/event-stream;q=0, application/json', 'http'],
  ])('%s → %s', (accept, protocol) => {
    expect(negotiate(accept, on)).toBe(protocol);
  });

  it('answers a browser as GraphQL over HTTP when GraphiQL is off', () => {
    expect(negotiate('text/html,*/*;q=0.8', off)).toBe('http');
  });
});

describe('parseAccept', () => {
  it('keeps quoted parameters whole, lower-cases names, and orders by quality', () => {
    expect(
      parseAccept('a/b;q=0.2, multipart/mixed; Boundary="x,y"; subscriptionSpec="1.0"'),
    ).toEqual([
      { type: 'multipart/mixed', params: { boundary: 'x,y', subscriptionspec: '1.0' }, q: 1 },
      { type: 'a/b', params: {}, q: 0.2 },
    ]);
  });
});

describe('httpMediaType', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    [
      'application/graphql-response+json, application/json;q=0.9',
      'application/graphql-response+json',
    ],
    // Quality first, then the client's order: graphql-http alone would take the first.
    ['application/graphql-response+json;q=0.5, application/json', 'application/json'],
    [
      'application/json;q=0, application/graphql-response+json',
      'application/graphql-response+json',
    ],
    ['application/json;q=0', undefined],
    // A wildcard stands for what the client did not refuse by name.
    ['application/json;q=0, */*', 'application/graphql-response+json'],
    ['application/json;q=0, application/graphql-response+json;q=0, */*', undefined],
    ['application/json; charset=latin1', undefined],
    ['application/json; charset=latin1, application/*', 'application/json'],
    ['text/plain', undefined],
    ['multipart/mixed;deferSpec=20220824, application/json', 'application/json'],
  ])('%j → %s', (accept, type) => {
    expect(httpMediaType(accept)).toBe(type);
  });
});
