import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateTime } from './date-time.js';

describe('DateTime', () => {
  it('serializes dates and ISO strings as UTC ISO 8601', () => {
    expect(DateTime.serialize(new Date('2024-05-01T09:00:00Z'))).toBe('2024-05-01T09:00:00.000Z');
    expect(DateTime.serialize('2024-05-01T11:00:00+02:00')).toBe('2024-05-01T09:00:00.000Z');
  });

  it('refuses what is not a valid date-time', () => {
    expect(() => DateTime.serialize(new Date('nope'))).toThrow('DateTime cannot represent');
    expect(() => DateTime.serialize(42)).toThrow('DateTime cannot represent 42');
    expect(() => DateTime.serialize('2024-05-01')).toThrow('ISO 8601 date-time with an offset');
  });

  it('parses variables and literals into dates', () => {
    expect(DateTime.parseValue('2024-05-01T09:00:00Z')).toEqual(new Date('2024-05-01T09:00:00Z'));
    expect(DateTime.parseLiteral({ kind: Kind.STRING, value: '2024-05-01T09:00Z' })).toEqual(
      new Date('2024-05-01T09:00:00Z'),
    );
    expect(() => DateTime.parseValue(1714554000000)).toThrow(
      'DateTime must be a string; got number',
    );
    expect(() => DateTime.parseValue('2024-13-45T99:00:00Z')).toThrow('got "2024-13-45T99:00:00Z"');
    expect(() => DateTime.parseLiteral({ kind: Kind.INT, value: '1' })).toThrow(
      'DateTime must be a string literal; got IntValue',
    );
  });
});
