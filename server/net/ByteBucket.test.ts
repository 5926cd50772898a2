import { describe, expect, it } from 'vitest';
import { ByteBucket } from './ByteBucket';

describe('ByteBucket', () => {
  it('allows a second of burst, then asks to wait in proportion to the debt', () => {
    let now = 0;
    const b = new ByteBucket(1000, () => now);
    expect(b.take(1000)).toBe(0);
    expect(b.take(500)).toBe(500);
    now += 500;
    expect(b.take(0)).toBe(0);
    now += 1000;
    expect(b.take(1000)).toBe(0);
  });

  it('refills no more than one second and ignores a clock that steps back', () => {
    let now = 10_000;
    const b = new ByteBucket(100, () => now);
    now += 60_000;
    expect(b.take(150)).toBe(500);
    now -= 30_000;
    expect(b.take(0)).toBe(500);
  });
});
