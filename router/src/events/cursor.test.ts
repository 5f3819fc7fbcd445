import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { decodeCursor, encodeCursor } from './cursor.js';

const code = (value: unknown) => (value as GraphQLError).extensions['code'];

describe('cursors', () => {
  it('round-trips a stream position through an opaque string', () => {
    const cursor = encodeCursor({ stream: 'chat', sequence: 42 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'chat')).toEqual({ stream: 'chat', sequence: 42 });
  });

  it('refuses a cursor of another stream', () => {
    const cursor = encodeCursor({ stream: 'scrape_jobs', sequence: 1 });
    expect(code(decodeCursor(cursor, 'chat'))).toBe('CURSOR_WRONG_STREAM');
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['not base64url', '!!!'],
    ['not ours', Buffer.from('hello').toString('base64url')],
    ['no sequence', Buffer.from('edfs1:chat:').toString('base64url')],
    ['a negative sequence', Buffer.from('edfs1:chat:-1').toString('base64url')],
    ['sequence 0', Buffer.from('edfs1:chat:0').toString('base64url')],
    ['a huge sequence', Buffer.from(`edfs1:chat:${'9'.repeat(20)}`).toString('base64url')],
    ['padded base64', `${encodeCursor({ stream: 'chat', sequence: 1 })}==`],
    ['very long', 'a'.repeat(100_000)],
  ])('refuses a cursor that is %s as INVALID_CURSOR', (_, cursor) => {
    expect(code(decodeCursor(cursor, 'chat'))).toBe('INVALID_CURSOR');
  });
});
