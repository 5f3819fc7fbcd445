import { describe, expect, it } from 'vitest';
import { GATHER_TURNS, SHARED_READ_MAX_BYTES, SHARED_READ_MAX_MESSAGES } from './catch-up.js';
import { flush, nextTurn, fakeStream, spec, recorder, hub } from './catch-up-fixture.js';
import { EventHub } from './event-hub.js';
import { pino } from 'pino';
import type { EventProvider } from '../providers/provider.js';

describe('a crowd catching up from one position', () => {
  it('gives members resuming together from one position one broker read, and each everything once', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b', 'c']) stream.store(id);
    const events = hub(stream.provider);
    const resumers = [recorder(), recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 1 });
    await flush();
    // Live events while the read waits: each resumer holds them in its backlog.
    stream.publish('d');
    stream.publish('e');
    stream.open();
    await flush();
    expect(stream.replays).toEqual([{ stream: 'chat', subject: 'room.1', after: 1 }]);
    for (const resumer of resumers) {
      expect(resumer.ids()).toEqual(['b', 'c', 'd', 'e']);
      expect(resumer.received.map((r) => r.position)).toEqual([2, 3, 4, 5]);
    }
    stream.publish('f');
    await flush();
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it('ends members sharing a read whose events cannot be resolved, rather than hold them', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b', 'c']) stream.store(id);
    const events = hub(stream.provider);
    const broken = {
      ...spec,
      validate: (payload: unknown) => {
        if ((payload as { id?: string }).id === 'b') throw new Error('a bug');
        return spec.validate(payload);
      },
    };
    const resumers = [recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', broken, resumer.subscriber, { after: 1 });
    stream.open();
    await flush();
    for (const resumer of resumers) {
      expect(resumer.ended.map((error) => error.extensions['code'])).toEqual([
        'SUBSCRIPTION_FAILED',
      ]);
    }
    expect(events.subscribers).toBe(0);
  });

  it('gives a crowd that comes a few per turn one broker read, as long as each turn brings more', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const resumers = Array.from({ length: 20 }, () => recorder());
    for (const [n, resumer] of resumers.entries()) {
      events.join('room.1', spec, resumer.subscriber, { after: 0 });
      if (n % 2 === 1) await nextTurn(); // two a turn, as RouterCore.turn starts a crowd
    }
    await flush();
    stream.open();
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['a', 'b']);
  });

  it('gives a LAST crowd that keeps joining one read, missing no live event that came meanwhile', async () => {
    const stream = fakeStream();
    stream.store('a');
    const events = hub(stream.provider);
    const first = recorder();
    events.join('room.1', spec, first.subscriber, 'last');
    for (const id of ['b', 'c', 'd']) {
      await nextTurn();
      events.join('room.1', spec, recorder().subscriber, 'last');
      stream.publish(id);
    }
    await flush();
    // The read finds 'd', after the subscription's start: the first starts from the live ones.
    expect(first.ids()).toEqual(['b', 'c', 'd']);
    expect(stream.replays).toHaveLength(1);
  });

  it('starts the read of a crowd that keeps coming after GATHER_TURNS turns', async () => {
    const stream = fakeStream();
    stream.store('a');
    const events = hub(stream.provider);
    const resumers = Array.from({ length: GATHER_TURNS + 10 }, () => recorder());
    let readAfter: number | undefined;
    for (const [turn, resumer] of resumers.entries()) {
      events.join('room.1', spec, resumer.subscriber, { after: 0 });
      await nextTurn();
      readAfter ??= stream.replays.length > 0 ? turn : undefined;
    }
    expect(readAfter).toBeGreaterThanOrEqual(GATHER_TURNS - 2);
    expect(readAfter).toBeLessThanOrEqual(GATHER_TURNS + 2);
    stream.open();
    await flush();
    await flush();
    for (const resumer of resumers) expect(resumer.ids()).toEqual(['a']);
  });

  it('reads again for a member that comes once the shared read has started, missing nothing', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const early = [recorder(), recorder()];
    for (const resumer of early) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush(); // their read has found the last stored event and waits
    stream.publish('c'); // after that read's end: the early ones get it live
    const late = recorder();
    events.join('room.1', spec, late.subscriber, { after: 0 });
    await flush();
    stream.open();
    await flush();
    expect(stream.replays).toHaveLength(2);
    for (const resumer of [...early, late]) expect(resumer.ids()).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['more events', SHARED_READ_MAX_MESSAGES + 5, (n: number) => `m${n}`],
    ['more bytes', 3, (n: number) => `${'x'.repeat(SHARED_READ_MAX_BYTES / 2)}${n}`],
  ])(
    'lets each member read on its own a replay of %s than a shared read keeps, in order, none twice',
    async (_, count, id) => {
      const stream = fakeStream();
      for (let n = 1; n <= count; n++) stream.store(id(n));
      stream.open();
      const events = hub(stream.provider);
      const resumers = [recorder(), recorder()];
      for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
      await flush();
      await flush();
      expect(stream.replays).toHaveLength(3); // the shared read stopped, then one each
      const expected = Array.from({ length: count }, (_, i) => id(i + 1));
      for (const resumer of resumers) expect(resumer.ids()).toEqual(expected);
    },
  );

  it('fails every member of a shared read the broker breaks, and logs it once', async () => {
    const stream = fakeStream();
    stream.store('a');
    const broken: EventProvider = {
      ...stream.provider,
      async *replay(request) {
        stream.replays.push(request);
        throw new Error('consumer lost');
      },
    };
    const logged: string[] = [];
    const events = new EventHub({
      providers: new Map([['default', broken]]),
      logger: pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }),
    });
    const resumers = [recorder(), recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) {
      expect(resumer.ended.map((e) => e.extensions['code'])).toEqual(['SUBSCRIPTION_FAILED']);
    }
    expect(logged.filter((line) => line.includes('replaying stored events failed'))).toHaveLength(
      1,
    );
    expect(events.subscribers).toBe(0);
  });

  it('ends every member of a shared read whose position is gone with CURSOR_EXPIRED', async () => {
    const stream = fakeStream();
    stream.store('a');
    stream.store('b');
    stream.expire(2);
    const events = hub(stream.provider);
    const resumers = [recorder(), recorder()];
    for (const resumer of resumers) events.join('room.1', spec, resumer.subscriber, { after: 0 });
    await flush();
    expect(stream.replays).toHaveLength(1);
    for (const resumer of resumers) {
      expect(resumer.ended.map((e) => e.extensions['code'])).toEqual(['CURSOR_EXPIRED']);
    }
    expect(events.subscribers).toBe(0);
  });

  it('goes on for the others when a member of a shared read leaves', async () => {
    const stream = fakeStream();
    for (const id of ['a', 'b']) stream.store(id);
    const events = hub(stream.provider);
    const staying = recorder();
    const leaving = recorder();
    events.join('room.1', spec, staying.subscriber, { after: 0 });
    const leave = events.join('room.1', spec, leaving.subscriber, { after: 0 });
    await flush();
    leave();
    stream.open();
    await flush();
    expect(staying.ids()).toEqual(['a', 'b']);
    expect(leaving.ids()).toEqual([]);
    stream.publish('c');
    await flush();
    expect(staying.ids()).toEqual(['a', 'b', 'c']);
    expect(leaving.ids()).toEqual([]);
  });
});
