import { describe, expect, it, vi } from 'vitest';
import { OpenStreams } from './open-streams.js';

describe('OpenStreams', () => {
  it('ends every stream still open, once, and forgets the ones unregistered', () => {
    const open = new OpenStreams();
    const [a, b] = [vi.fn(), vi.fn()];
    open.add(a);
    const unregister = open.add(b);
    unregister();
    expect(open.size).toBe(1);
    open.endAll();
    expect(a).toHaveBeenCalledOnce();
    expect(b).not.toHaveBeenCalled();
    expect(open.size).toBe(0);
  });

  it('ends a stream at once that starts after they were ended (it waited for its turn)', () => {
    const open = new OpenStreams();
    open.endAll();
    const late = vi.fn();
    const unregister = open.add(late);
    expect(late).toHaveBeenCalledOnce();
    expect(open.size).toBe(0);
    unregister();
    open.endAll();
    expect(late).toHaveBeenCalledOnce();
  });
});
