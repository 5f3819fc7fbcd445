import { describe, expect, it } from 'vitest';
import { StreamHeads } from './stream-heads.js';

/** A read of a stream's head whose answers the test gives, in the order they were sent. */
function fakeReads() {
  const sent: { stream: string; answer(head: number): void; fail(error: Error): void }[] = [];
  const heads = new StreamHeads<number>(
    (stream) =>
      new Promise<number>((answer, fail) => {
        sent.push({ stream, answer, fail });
      }),
  );
  /** Lets the promise callbacks run until `count` reads were sent (or they are done). */
  const sentBy = async (count: number) => {
    for (let turn = 0; turn < 10 && sent.length < count; turn++) await Promise.resolve();
    return sent.length;
  };
  return { heads, sent, sentBy };
}

describe('StreamHeads', () => {
  it('answers every caller that asked before a read was sent with that one read', async () => {
    const { heads, sent, sentBy } = fakeReads();
    const first = heads.next('chat');
    expect(sent).toHaveLength(1);
    // These asked while the first read was on its way: it may have been answered before
    // they asked, so they share the next one, sent once the first is back.
    const later = [heads.next('chat'), heads.next('chat'), heads.next('chat')];
    expect(sent).toHaveLength(1);
    sent[0]!.answer(5);
    expect(await first).toBe(5);
    expect(await sentBy(2)).toBe(2);
    sent[1]!.answer(9);
    expect(await Promise.all(later)).toEqual([9, 9, 9]);
  });

  it('reads again for a caller that asks after the last read came back', async () => {
    const { heads, sent } = fakeReads();
    const first = heads.next('chat');
    sent[0]!.answer(1);
    await first;
    const second = heads.next('chat');
    expect(sent).toHaveLength(2);
    sent[1]!.answer(2);
    expect(await second).toBe(2);
  });

  it('reads each stream on its own', () => {
    const { heads, sent } = fakeReads();
    void heads.next('chat');
    void heads.next('jobs');
    expect(sent.map((read) => read.stream)).toEqual(['chat', 'jobs']);
  });

  it('fails only the callers of a failed read; those queued behind it get the next', async () => {
    const { heads, sent, sentBy } = fakeReads();
    const failed = heads.next('chat');
    const queued = heads.next('chat');
    sent[0]!.fail(new Error('timeout'));
    await expect(failed).rejects.toThrow('timeout');
    expect(await sentBy(2)).toBe(2);
    sent[1]!.answer(7);
    expect(await queued).toBe(7);
    const after = heads.next('chat');
    expect(sent).toHaveLength(3);
    sent[2]!.answer(8);
    expect(await after).toBe(8);
  });
});
