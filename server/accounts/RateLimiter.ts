import crypto from 'node:crypto';

/** `points` actions per `windowMs`, refilled evenly; a burst of up to `points` is allowed. */
export interface RateLimit {
  points: number;
  windowMs: number;
}

/**
 * Suggested limits. Per IP stops one address guessing; per email stops many addresses guessing one
 * password. Per-IP budgets leave room for a classroom behind one NAT address (30 students signing
 * up, signing in and opening an invite link, each a preview and a redemption, in a few minutes).
 */
export const SIGN_IN_PER_IP: RateLimit = { points: 100, windowMs: 10 * 60_000 };
/** Per email and address together (server/auth/signInAttempt.ts), so nobody elsewhere can spend a victim's; reset after a successful sign-in. */
export const SIGN_IN_PER_EMAIL: RateLimit = { points: 10, windowMs: 15 * 60_000 };
export const SIGN_UP_PER_IP: RateLimit = { points: 60, windowMs: 10 * 60_000 };
/** Invite tokens carry 192 random bits, so guessing is hopeless anyway; this keeps it noisy and slow. */
export const INVITE_REDEEM_PER_IP: RateLimit = { points: 300, windowMs: 10 * 60_000 };
export const DEFAULT_MAX_KEYS = 10_000;
/** Longer keys are stored as their SHA-256, so maxKeys bounds memory whatever callers pass. */
const MAX_KEY_CHARS = 128;

export interface RateDecision {
  ok: boolean;
  /** When refused: how long until it would be allowed (for a Retry-After header). 0 when ok. */
  retryAfterMs: number;
  /** Whole actions left now. */
  remaining: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * An in-memory token bucket per key (an IP, an email, an invite). At most `maxKeys` buckets: when
 * full, the least recently used one goes. That bucket has had the longest time to refill, so
 * forgetting it loses the least; and flushing a victim's bucket out takes `maxKeys` fresh keys,
 * which another limiter (per IP) throttles. One process only; no timers, nothing to close.
 */
export class RateLimiter {
  private buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;

  constructor(
    private limit: RateLimit,
    opts: { maxKeys?: number } = {},
  ) {
    if (!(limit.points > 0) || !(limit.windowMs > 0)) throw new Error('RateLimiter needs points > 0 and windowMs > 0');
    this.maxKeys = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** Takes `cost` from the key's bucket if it has that much; a refusal takes nothing. */
  consume(key: string, nowMs = Date.now(), cost = 1): RateDecision {
    const k = keyOf(key);
    const b = this.refill(k, nowMs);
    // Re-insert: a Map iterates in insertion order, so its first key is the least recently used.
    this.buckets.delete(k);
    this.buckets.set(k, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true, retryAfterMs: 0, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - b.tokens) * this.limit.windowMs) / this.limit.points), remaining: Math.floor(b.tokens) };
  }

  /** Forgets a key (e.g. an email after a successful sign-in). */
  reset(key: string): void {
    this.buckets.delete(keyOf(key));
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(k: string, nowMs: number): Bucket {
    const b = this.buckets.get(k);
    if (!b) return { tokens: this.limit.points, atMs: nowMs };
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, nowMs - b.atMs);
    b.tokens = Math.min(this.limit.points, b.tokens + (elapsed * this.limit.points) / this.limit.windowMs);
    b.atMs = Math.max(b.atMs, nowMs);
    return b;
  }
}

function keyOf(key: string): string {
  return key.length <= MAX_KEY_CHARS ? key : 'sha256:' + crypto.createHash('sha256').update(key).digest('base64url');
}
