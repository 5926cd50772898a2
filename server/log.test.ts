import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log';

describe('LogThrottle', () => {
  it('lets a few lines a window through per key, counts the rest and reports them with the next line', () => {
    const t = new LogThrottle(2, 1000);
    expect([0, 1, 2, 3, 4].map(() => t.allow('bad-frame', 0).ok)).toEqual([true, true, false, false, false]);
    expect(t.allow('sign-in', 10).ok).toBe(true); // keys are separate
    expect(t.allow('bad-frame', 1000)).toEqual({ ok: true, suppressed: 3 });
    expect(t.allow('bad-frame', 1001)).toEqual({ ok: true, suppressed: 0 });
  });

  it('holds at most maxKeys keys', () => {
    const t = new LogThrottle(1, 1000, 3);
    for (let i = 0; i < 100; i++) t.allow(`k${i}`, 0);
    expect((t as unknown as { windows: Map<string, unknown> }).windows.size).toBe(3);
  });
});
