import { describe, expect, it } from 'vitest';
import { NextPayloads, nextPayloadStart } from './next-payloads.js';

const payload = { data: { messageAdded: { id: 'm1', text: 'hi "there"}', user: { name: 'A' } } } };

describe('NextPayloads', () => {
  it('gives what JSON.parse gives, for next messages and any other', () => {
    const memo = new NextPayloads();
    const messages = [
      JSON.stringify({ id: '3f1c-aa', type: 'next', payload }),
      JSON.stringify({ id: 'b', type: 'next', payload: { errors: [{ message: 'x' }] } }),
      JSON.stringify({ type: 'next', id: 'c', payload }), // another key order
      JSON.stringify({ id: 'q"uote', type: 'next', payload }), // an escaped id
      JSON.stringify({ id: 'd', type: 'complete' }),
      '{"type":"ping"}',
      ` ${JSON.stringify({ id: 'e', type: 'next', payload })}`, // leading space
    ];
    for (const text of messages) {
      expect(memo.parse(text)).toEqual(JSON.parse(text));
      expect(memo.parse(text)).toEqual(JSON.parse(text)); // the second time from the memo
    }
  });

  it('keeps no large payload, and still parses it as JSON.parse does', () => {
    const memo = new NextPayloads();
    const large = JSON.stringify({ id: 'a', type: 'next', payload: { data: 'x'.repeat(10_000) } });
    expect(memo.parse(large)).toEqual(JSON.parse(large));
    expect(memo.parse(large).payload).not.toBe(memo.parse(large).payload);
  });

  it('parses a payload once for every subscriber it reaches, whatever their ids', () => {
    const memo = new NextPayloads();
    const one = memo.parse(JSON.stringify({ id: 'one', type: 'next', payload }));
    const two = memo.parse(JSON.stringify({ id: 'two', type: 'next', payload }));
    expect(two.id).toBe('two');
    expect(two.payload).toBe(one.payload);
  });

  it('throws as JSON.parse does on a malformed payload, and keeps no entry past its bound', () => {
    const memo = new NextPayloads(2);
    expect(() => memo.parse('{"id":"a","type":"next","payload":{"data":}')).toThrow(SyntaxError);
    expect(() => memo.parse('{"id":"a","type":"next","payload":{}')).toThrow(SyntaxError);
    const first = memo.parse('{"id":"a","type":"next","payload":{"n":1}}').payload;
    memo.parse('{"id":"a","type":"next","payload":{"n":2}}');
    memo.parse('{"id":"a","type":"next","payload":{"n":3}}'); // full: starts over
    expect(memo.parse('{"id":"b","type":"next","payload":{"n":1}}').payload).not.toBe(first);
  });

  it('finds the payload only in an envelope framed exactly as servers write it', () => {
    expect(nextPayloadStart('{"id":"a","type":"next","payload":{}}')).toBe(34);
    expect(nextPayloadStart('{"id":"a\\"","type":"next","payload":{}}')).toBe(-1);
    expect(nextPayloadStart('{"id":"a","type":"error","payload":[]}')).toBe(-1);
  });
});
