import { describe, expect, it } from 'vitest';
import { covers, mayHaveLost } from './nats-streams.js';

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

describe('mayHaveLost', () => {
  it.each([
    // pending behind the message delivered, the stream's per-subject limit, the verdict
    [0, 1000, false],
    [998, 1000, false],
    [999, 1000, true], // every message it holds of the subject was unread
    [1000, 1000, true],
    [0, 1, true], // it keeps one: any message may have pushed an unread one out
    [5000, 0, false], // no limit
    [5000, -1, false],
  ])('%d pending, %d kept per subject: %s', (pending, limit, expected) => {
    expect(mayHaveLost(pending, limit)).toBe(expected);
  });
});
