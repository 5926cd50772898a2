import { describe, expect, it } from 'vitest';
import { RateLimiter, SIGN_IN_PER_EMAIL } from './RateLimiter';

describe('RateLimiter', () => {
  it('allows a burst of `points`, then refuses with a retry time', () => {
    const rl = new RateLimiter({ points: 5, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(rl.consume('1.2.3.4', 1000)).toMatchObject({ ok: true, remaining: 4 - i });
    const refused = rl.consume('1.2.3.4', 1000);
    expect(refused).toEqual({ ok: false, retryAfterMs: 12_000, remaining: 0 });
    // Refusals take nothing: still exactly one allowed once a token has refilled.
    for (let i = 0; i < 100; i++) rl.consume('1.2.3.4', 1000);
    expect(rl.consume('1.2.3.4', 1000 + 12_000).ok).toBe(true);
    expect(rl.consume('1.2.3.4', 1000 + 12_000).ok).toBe(false);
  });

  it('refills evenly up to `points`, not beyond', () => {
    const rl = new RateLimiter({ points: 4, windowMs: 4000 });
    for (let i = 0; i < 4; i++) rl.consume('k', 0);
    expect(rl.consume('k', 999).ok).toBe(false);
    expect(rl.consume('k', 1000).ok).toBe(true);
    const later = 1_000_000;
    for (let i = 0; i < 4; i++) expect(rl.consume('k', later).ok).toBe(true);
    expect(rl.consume('k', later).ok).toBe(false);
  });

  it('a brute-force run against one account is stopped after the limit', () => {
    const rl = new RateLimiter(SIGN_IN_PER_EMAIL);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) if (rl.consume('victim@example.com', 5_000 + i).ok) allowed++;
    expect(allowed).toBe(SIGN_IN_PER_EMAIL.points);
  });

  it('keys are independent, and reset forgets one', () => {
    const rl = new RateLimiter({ points: 1, windowMs: 60_000 });
    expect(rl.consume('a', 0).ok).toBe(true);
    expect(rl.consume('a', 0).ok).toBe(false);
    expect(rl.consume('b', 0).ok).toBe(true);
    rl.reset('a');
    expect(rl.consume('a', 0).ok).toBe(true);
  });

  it('a clock stepping back neither refills nor breaks the bucket', () => {
    const rl = new RateLimiter({ points: 2, windowMs: 1000 });
    rl.consume('k', 10_000);
    rl.consume('k', 10_000);
    expect(rl.consume('k', 0).ok).toBe(false);
    expect(rl.consume('k', 10_499).ok).toBe(false);
    expect(rl.consume('k', 10_500).ok).toBe(true);
  });

  it('costs more than one point when asked', () => {
    const rl = new RateLimiter({ points: 10, windowMs: 10_000 });
    expect(rl.consume('k', 0, 7).ok).toBe(true);
    expect(rl.consume('k', 0, 7)).toEqual({ ok: false, retryAfterMs: 4000, remaining: 3 });
  });

  it('holds at most maxKeys buckets, however many keys an attacker invents', () => {
    const rl = new RateLimiter({ points: 3, windowMs: 60_000 }, { maxKeys: 100 });
    for (let i = 0; i < 50_000; i++) rl.consume(`spoofed-${i}`, i);
    expect(rl.size).toBe(100);
    // Huge keys are stored hashed, so memory stays bounded by count.
    rl.consume('x'.repeat(1_000_000), 0);
    rl.consume('x'.repeat(1_000_000), 0);
    rl.consume('x'.repeat(1_000_000), 0);
    expect(rl.consume('x'.repeat(1_000_000), 0).ok).toBe(false);
    expect(rl.consume('x'.repeat(999_999) + 'y', 0).ok).toBe(true);
  });

  it('evicts the least recently used bucket, so a key still being hammered keeps its count', () => {
    const rl = new RateLimiter({ points: 2, windowMs: 60_000 }, { maxKeys: 10 });
    rl.consume('attacker', 0);
    rl.consume('attacker', 0);
    for (let i = 0; i < 1000; i++) {
      rl.consume(`noise-${i}`, 0);
      expect(rl.consume('attacker', 0).ok).toBe(false);
    }
  });

  it('refuses nonsense limits', () => {
    expect(() => new RateLimiter({ points: 0, windowMs: 1000 })).toThrow();
    expect(() => new RateLimiter({ points: 1, windowMs: NaN })).toThrow();
  });
});
