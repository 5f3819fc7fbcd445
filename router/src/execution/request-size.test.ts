import { describe, expect, it } from 'vitest';
import { jsonBytes } from './request-size.js';

describe('jsonBytes', () => {
  it.each([
    ['a string', 'héllo ✓'],
    ['a number, a boolean, null', [1.5, -20, true, null]],
    ['an object', { roomID: '123', user: { id: 'ü', tags: ['a', 'b'] }, n: 0 }],
    ['empty containers', [{}, [], '']],
  ])('counts %s as JSON.stringify writes it', (_, value) => {
    expect(jsonBytes(value, 1_000)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });

  it('measures a value nested deeper than JSON.stringify can go', () => {
    let deep: unknown = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(jsonBytes(deep, 1_000_000)).toBe(100_002);
  });

  it('stops once over the budget, saying so', () => {
    const huge = Array.from({ length: 1_000 }, () => ({ ['k'.repeat(100)]: 'x'.repeat(100) }));
    expect(jsonBytes(huge, 1_000)).toBeGreaterThan(1_000);
    expect(jsonBytes({ a: 'x'.repeat(2_000), b: 1 }, 1_000)).toBeGreaterThan(1_000);
    expect(jsonBytes({ a: 'x'.repeat(990) }, 1_000)).toBe(998);
  });
});
