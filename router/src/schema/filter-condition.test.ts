import { describe, expect, it } from 'vitest';
import { FilterShapeError, readFilterCondition } from './filter-condition.js';

const IN = { fieldPath: 'user.id', values: ['1'] };

describe('readFilterCondition', () => {
  it('reads IN, AND, OR and NOT, nested', () => {
    const condition = {
      AND: [{ IN }, { OR: [{ NOT: { IN: { fieldPath: 'id', values: ['2', '3'] } } }, { IN }] }],
    };
    expect(readFilterCondition(condition)).toEqual(condition);
  });

  it('takes an operator given as null as not given', () => {
    expect(readFilterCondition({ IN, NOT: null, AND: null })).toEqual({ IN });
  });

  it.each([
    [{ IN, NOT: { IN } }, 'condition: must have exactly one of IN, AND, OR, NOT, not IN and NOT'],
    [{}, 'condition: must have exactly one of IN, AND, OR, NOT, not none'],
    [{ AND: [{ IN }, { IN, OR: [{ IN }] }] }, 'condition.AND[1]: must have exactly one'],
    [{ EQ: IN }, 'condition: "EQ" is not an operator (IN, AND, OR, NOT)'],
    [{ AND: [] }, 'condition.AND: must be a non-empty list of conditions'],
    [{ OR: { IN } }, 'condition.OR: must be a non-empty list of conditions'],
    [{ NOT: [{ IN }] }, 'condition.NOT: must be an object, not [{"IN"'],
    [{ IN: { fieldPath: 'id', values: [] } }, 'condition.IN.values: must be a non-empty list'],
    [{ IN: { fieldPath: 'id' } }, 'condition.IN.values: must be a non-empty list'],
    [
      { IN: { fieldPath: 'id', values: ['1', 2] } },
      'condition.IN.values[1]: must be a string, not 2',
    ],
    [
      { IN: { fieldPath: 'user..id', values: ['1'] } },
      'condition.IN.fieldPath: must be field names',
    ],
    [{ IN: { fieldPath: '', values: ['1'] } }, 'condition.IN.fieldPath: must be field names'],
    [
      { IN: { values: ['1'] } },
      'condition.IN.fieldPath: must be field names joined by ".", e.g. "user.id", not nothing',
    ],
    [{ IN: { ...IN, value: '1' } }, 'condition.IN: has value; only fieldPath and values'],
    [undefined, 'condition: must be an object, not nothing'],
    ['IN', 'condition: must be an object, not "IN"'],
  ])('refuses %j, naming the place', (value, message) => {
    const read = () => readFilterCondition(value);
    expect(read).toThrow(FilterShapeError);
    expect(read).toThrow(message);
  });

  it('refuses a condition nested past its bound', () => {
    let condition: unknown = { IN };
    for (let i = 0; i < 20; i++) condition = { NOT: condition };
    expect(() => readFilterCondition(condition)).toThrow('nested deeper than 16');
  });
});
