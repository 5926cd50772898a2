/**
 * Output coalescing for one terminal: the host's chunks become at most one frame to guests per
 * FRAME_INTERVAL_MS, as terminals and sshx render. Each frame costs the server a send per guest
 * (~27 µs at 500 guests, Socket.IO's broadcast floor), so a chatty program writing hundreds of
 * small chunks a second would otherwise saturate a core; merged, its cost is bounded by the frame
 * rate whatever the host's chunking.
 *
 * Keystroke echo is not delayed: output arriving when no frame went out in the last interval is
 * sent at once (leading edge); only output following a frame closely waits, at most one interval.
 */

/** At most one frame per this interval per terminal (a 60 Hz screen's refresh). */
export const FRAME_INTERVAL_MS = 16;
/** A frame is sent early once this much output is waiting, bounding a frame's size (UTF-16 units). */
export const MAX_FRAME_CHARS = 256 * 1024;

export interface CoalescerOptions {
  intervalMs?: number;
  maxFrameChars?: number;
  now?: () => number;
}

/** How waiting items become one: output is concatenated; for a resize, the latest wins. */
export interface Merge<T> {
  merge(parts: T[]): T;
  size(x: T): number;
}
const TEXT: Merge<string> = { merge: (parts) => (parts.length === 1 ? parts[0] : parts.join('')), size: (x) => x.length };
export const LATEST: Merge<unknown> = { merge: (parts) => parts[parts.length - 1], size: () => 1 };

export class FrameCoalescer<T = string> {
  private pending: T[] = [];
  private pendingChars = 0;
  private lastFlushAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly intervalMs: number;
  private readonly maxFrameChars: number;
  private readonly now: () => number;

  constructor(
    /** Sends one merged frame; called synchronously from push() or flush(), or from the timer. */
    private readonly emit: (data: T) => void,
    opts: CoalescerOptions = {},
    private readonly how: Merge<T> = TEXT as unknown as Merge<T>,
  ) {
    this.intervalMs = opts.intervalMs ?? FRAME_INTERVAL_MS;
    this.maxFrameChars = opts.maxFrameChars ?? MAX_FRAME_CHARS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Output waiting for the next frame, in UTF-16 units. */
  get waiting(): number {
    return this.pendingChars;
  }

  push(data: T): void {
    const n = this.how.size(data);
    if (n === 0) return;
    this.pending.push(data);
    this.pendingChars += n;
    if (this.timer) {
      if (this.pendingChars >= this.maxFrameChars) this.flush();
      return;
    }
    const wait = this.lastFlushAt + this.intervalMs - this.now();
    if (wait <= 0 || this.pendingChars >= this.maxFrameChars) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is waiting now (before a resize, for a snapshot taken outside the socket flow). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pendingChars === 0) return;
    const data = this.how.merge(this.pending);
    this.pending = [];
    this.pendingChars = 0;
    this.lastFlushAt = this.now();
    this.emit(data);
  }

  /** Drops what is waiting (the terminal closed). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.pendingChars = 0;
  }
}
