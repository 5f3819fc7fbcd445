import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { normalizedOperation, normalizedVariables } from './normalize.js';

const normalized = (text: string, operationName?: string) =>
  normalizedOperation(parse(text), operationName);

describe('normalizedOperation', () => {
  it('is the same for operations that differ in name, whitespace, comments and variable order', () => {
    const a = normalized(`
      # the chat window
      subscription Chat($roomID: ID!, $limit: Int) {
        messageAdded(roomID: $roomID) { id text(limit: $limit) ...Author }
      }
      fragment Author on Message { author { name } }
    `);
    const b = normalized(
      'fragment Author on Message{author{name}} subscription Other($limit:Int,$roomID:ID!){messageAdded(roomID:$roomID){id text(limit:$limit) ...Author}}',
    );
    expect(a).toBe(b);
  });

  it('keeps what changes the result: aliases, arguments, directives and selections', () => {
    const base = 'subscription($r: ID!) { messageAdded(roomID: $r) { id text } }';
    const variants = [
      'subscription($r: ID!) { m: messageAdded(roomID: $r) { id text } }',
      'subscription($r: ID!) { messageAdded(roomID: "1") { id text } }',
      'subscription($r: ID!) { messageAdded(roomID: $r) { id text @skip(if: true) } }',
      'subscription($r: ID!) { messageAdded(roomID: $r) { text id } }',
      'subscription($r: ID! = "1") { messageAdded(roomID: $r) { id text } }',
    ];
    for (const variant of variants) expect(normalized(variant)).not.toBe(normalized(base));
  });

  it('leaves out the other operations and the fragments the operation does not use', () => {
    const document = `
      query Other { a { ...Unused } }
      subscription Wanted { messageAdded(roomID: "1") { ...Used } }
      fragment Used on Message { id ...Nested }
      fragment Nested on Message { text }
      fragment Unused on Message { author { name } }
    `;
    const result = normalized(document, 'Wanted');
    expect(result).toBe(
      normalized(
        'subscription { messageAdded(roomID: "1") { ...Used } } fragment Nested on Message { text } fragment Used on Message { id ...Nested }',
      ),
    );
    expect(result).not.toContain('Unused');
  });
});

describe('normalizedVariables', () => {
  it('does not depend on the order of keys, at any depth', () => {
    expect(normalizedVariables({ b: 1, a: { y: [{ q: 1, p: 2 }], x: null } })).toBe(
      normalizedVariables({ a: { x: null, y: [{ p: 2, q: 1 }] }, b: 1 }),
    );
  });

  it('keeps values apart that differ, and list order', () => {
    expect(normalizedVariables({ a: [1, 2] })).not.toBe(normalizedVariables({ a: [2, 1] }));
    expect(normalizedVariables({ a: '1' })).not.toBe(normalizedVariables({ a: 1 }));
    expect(normalizedVariables({ a: undefined })).toBe(normalizedVariables({}));
  });
});
