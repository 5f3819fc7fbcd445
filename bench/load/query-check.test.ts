import { describe, expect, it } from 'vitest';
import { AnswerChecker, sameJson } from './query-check.js';

const expected = { message: { id: '7', text: 'hi', user: { name: 'Alice' } } };
const checker = new AnswerChecker(expected);

describe('AnswerChecker', () => {
  it('accepts the expected data, however its keys are ordered or spaced', () => {
    expect(checker.check(200, JSON.stringify({ data: expected }))).toBeUndefined();
    const reordered = { data: { message: { user: { name: 'Alice' }, text: 'hi', id: '7' } } };
    expect(checker.check(200, JSON.stringify(reordered, null, 2))).toBeUndefined();
  });

  it('refuses a status other than 200 even with the right body', () => {
    expect(checker.check(500, JSON.stringify({ data: expected }))).toBe('status');
  });

  it('refuses an answer with errors, even beside the right data', () => {
    const body = JSON.stringify({ data: expected, errors: [{ message: 'subgraph down' }] });
    expect(checker.check(200, body)).toBe('errors');
  });

  it('refuses other data: a null joined field, a missing key, an extra key', () => {
    const wrong = [
      { message: { id: '7', text: 'hi', user: null } },
      { message: { id: '7', text: 'hi' } },
      { message: { ...expected.message, extra: 1 } },
      null,
    ];
    for (const data of wrong) expect(checker.check(200, JSON.stringify({ data }))).toBe('data');
  });

  it('refuses a body that is not a JSON object', () => {
    expect(checker.check(200, 'Bad Gateway')).toBe('body');
    expect(checker.check(200, 'null')).toBe('body');
  });
});

describe('sameJson', () => {
  it('compares arrays in order and objects by keys', () => {
    expect(sameJson([1, { a: 1, b: 2 }], [1, { b: 2, a: 1 }])).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: undefined }, { b: undefined })).toBe(false);
    expect(sameJson([], {})).toBe(false);
  });
});
