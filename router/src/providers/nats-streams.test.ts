import { describe, expect, it } from 'vitest';
import { covers } from './nats-streams.js';

describe('covers', () => {
  it.each([
    ['room.*.messages', 'room.*.messages', true],
    ['room.>', 'room.*.messages', true],
    ['>', 'scrapeJob.*.state', true],
    ['room.*.*', 'room.*.messages', true],
    ['room.1.messages', 'room.*.messages', false],
    ['room.*', 'room.*.messages', false],
    ['room.*.messages.x', 'room.*.messages', false],
    ['room.*.messages', 'room.>', false],
    ['room.>', 'room', false],
    ['chat.*.messages', 'room.*.messages', false],
  ])('%s covers %s: %s', (filter, subject, expected) => {
    expect(covers(filter, subject)).toBe(expected);
  });
});
