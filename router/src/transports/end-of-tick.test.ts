import { describe, expect, it } from 'vitest';
import { EndOfTick } from './ws-connection.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('EndOfTick', () => {
  it('runs what a tick queued once each, in order, after the code that queued it', async () => {
    const endOfTick = new EndOfTick();
    const ran: string[] = [];
    endOfTick.queue({ tickEnded: () => ran.push('a') });
    endOfTick.queue({ tickEnded: () => ran.push('b') });
    ran.push('sync');
    await nextTurn();
    await nextTurn();
    expect(ran).toEqual(['sync', 'a', 'b']);
  });

  it('runs what is queued while it runs in the same turn, and later ticks on their own', async () => {
    const endOfTick = new EndOfTick();
    const ran: string[] = [];
    endOfTick.queue({
      tickEnded: () => {
        ran.push('first');
        endOfTick.queue({ tickEnded: () => ran.push('queued by first') });
      },
    });
    await nextTurn();
    expect(ran).toEqual(['first', 'queued by first']);
    endOfTick.queue({ tickEnded: () => ran.push('later') });
    await nextTurn();
    expect(ran).toEqual(['first', 'queued by first', 'later']);
  });
});
