/**
 * A token bucket in bytes that may go into debt: data that already arrived is always taken, and
 * the answer says how long to pause before taking more. One second of burst.
 */
export class ByteBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private bytesPerSecond: number,
    private now: () => number = Date.now,
  ) {
    this.tokens = bytesPerSecond;
    this.atMs = now();
  }

  /** Takes `bytes`; returns the milliseconds to wait before the bucket is out of debt (0: none). */
  take(bytes: number): number {
    const t = this.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + (Math.max(0, t - this.atMs) * this.bytesPerSecond) / 1000);
    this.atMs = Math.max(this.atMs, t);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }
}
