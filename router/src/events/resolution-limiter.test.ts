import { describe, expect, it } from 'vitest';
import { ResolutionLimiter } from './resolution-limiter.js';

/** Lets the limiter's `await`s and `finally`s run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tasks that record when they start and finish only when the test says so. */
function gatedTasks() {
  const started: string[] = [];
  const gates = new Map<string, { pass(): void; fail(error: Error): void }>();
  let running = 0;
  let mostRunning = 0;
  const task = (name: string) => () => {
    started.push(name);
    mostRunning = Math.max(mostRunning, ++running);
    return new Promise<string>((resolve, reject) =>
      gates.set(name, {
        pass: () => {
          running--;
          resolve(name);
        },
        fail: (error) => {
          running--;
          reject(error);
        },
      }),
    );
  };
  const gate = (name: string) => {
    const found = gates.get(name);
    if (!found) throw new Error(`task ${name} has not started`);
    return found;
  };
  return { task, started, gate, mostRunning: () => mostRunning };
}

describe('ResolutionLimiter', () => {
  it('runs at most max tasks at once and starts the rest in arrival order', async () => {
    const limiter = new ResolutionLimiter(2);
    const tasks = gatedTasks();
    const results = ['a', 'b', 'c', 'd', 'e'].map((name) => limiter.run(tasks.task(name)));
    await flush();

    expect(tasks.started).toEqual(['a', 'b']);
    expect([limiter.running, limiter.waiting]).toEqual([2, 3]);

    tasks.gate('b').pass(); // the second finishes first: the oldest waiting task starts
    await flush();
    expect(tasks.started).toEqual(['a', 'b', 'c']);
    expect([limiter.running, limiter.waiting]).toEqual([2, 2]);

    // A task that arrives now queues behind those already waiting.
    results.push(limiter.run(tasks.task('f')));
    tasks.gate('a').pass();
    await flush();
    expect(tasks.started).toEqual(['a', 'b', 'c', 'd']);

    for (const name of ['c', 'd', 'e', 'f']) {
      tasks.gate(name).pass();
      await flush();
    }
    expect(tasks.started).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(tasks.mostRunning()).toBe(2);
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
  });

  it('frees the place of a task that rejects, and rejects as it did', async () => {
    const limiter = new ResolutionLimiter(1);
    const tasks = gatedTasks();
    const failing = limiter.run(tasks.task('a'));
    const next = limiter.run(tasks.task('b'));
    await flush();
    expect([limiter.running, limiter.waiting]).toEqual([1, 1]);

    const error = new Error('subgraph down');
    tasks.gate('a').fail(error);
    await expect(failing).rejects.toBe(error);
    await flush();
    expect(tasks.started).toEqual(['a', 'b']);
    expect([limiter.running, limiter.waiting]).toEqual([1, 0]);

    tasks.gate('b').pass();
    await expect(next).resolves.toBe('b');
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
  });

  it('frees the place of a task that throws before returning a promise', async () => {
    const limiter = new ResolutionLimiter(1);
    const error = new Error('thrown at once');
    await expect(
      limiter.run(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(limiter.running).toBe(0);
    await expect(limiter.run(() => Promise.resolve('ran'))).resolves.toBe('ran');
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s as max', (max) => {
    expect(() => new ResolutionLimiter(max)).toThrow(RangeError);
  });
});
