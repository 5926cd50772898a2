import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FinalStates } from './FinalStates';

let f: FinalStates;
beforeEach(() => {
  vi.useFakeTimers();
  f = new FinalStates(8000);
});
afterEach(() => {
  f.close();
  vi.useRealTimers();
});

describe('FinalStates', () => {
  it('an announce arriving after its own upload committed waits for nothing; the room forgets that key after the bound', async () => {
    f.committed('r1', 'k1');
    expect(f.announce('r1', 'k1')).toEqual({ waitMs: 0 });
    expect(f.awaitedKey('r1')).toBeNull();
    await vi.advanceTimersByTimeAsync(8000);
    // Forgotten (no per-room entry outlives the bound): the same key's announce now waits as any would.
    expect(f.announce('r1', 'k1')).toEqual({ waitMs: 8000 });
    expect(f.awaitedKey('r1')).toBe('k1');
  });

  it('a reader waits for the announced state until it is committed, or at most the bound', async () => {
    f.announce('r1', 'k1');
    let done = false;
    void f.wait('r1').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(7000);
    expect(done).toBe(false);
    expect(f.mayUpload('r1', 'k1')).toBe(true);
    expect(f.mayUpload('r1', 'other')).toBe(false);
    f.committed('r1', 'k1');
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);

    f.announce('r2', 'k2');
    let timedOut = false;
    void f.wait('r2').then(() => (timedOut = true));
    await vi.advanceTimersByTimeAsync(8000);
    expect(timedOut).toBe(true);
    expect(f.mayUpload('r2', 'k2')).toBe(false);
  });
});
