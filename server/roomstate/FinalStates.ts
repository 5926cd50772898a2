/** How long the next host's restore waits for a leaving host's announced final state, by default. */
export const DEFAULT_FINAL_STATE_WAIT_MS = 8000;

interface Pending {
  /** The upload key of the host that announced it (its seat's key at that moment). */
  key: string;
  until: number;
  timer: ReturnType<typeof setTimeout>;
  waiters: (() => void)[];
}

/**
 * A host closing its page announces a final state (a keepalive request in pagehide) that a service
 * worker then uploads after the page is gone (lib/browser/room/finalState.ts). Until it is
 * committed, or the bound passes, reading the room's newest state waits for it, so the next host
 * does not restore an older one; and the announcing key may finish that upload even though the
 * next host has sat down meanwhile (its own key changed nothing about who captured this state).
 * The bound keeps a final state that never arrives from stalling the handover.
 */
export class FinalStates {
  private pending = new Map<string, Pending>();
  /**
   * Per room, the key whose final state was committed last: its announce, arriving after the upload
   * (a keepalive request may be that late), waits for nothing. Kept for the wait bound only: an
   * announce later than that would wait no longer than the bound anyway.
   */
  private done = new Map<string, { key: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private waitMs: number,
    private now: () => number = Date.now,
  ) {}

  /** `key` (checked by the caller to be the room's current host key) says its final state is coming. */
  announce(room: string, key: string): { waitMs: number } {
    this.settle(room);
    if (this.waitMs <= 0 || this.done.get(room)?.key === key) return { waitMs: 0 };
    const timer = setTimeout(() => this.settle(room), this.waitMs);
    timer.unref?.();
    this.pending.set(room, { key, until: this.now() + this.waitMs, timer, waiters: [] });
    return { waitMs: this.waitMs };
  }

  /** Whether `key` announced the room's pending final state (and the bound has not passed): it may upload it. */
  mayUpload(room: string, key: string): boolean {
    const p = this.pending.get(room);
    return !!p && !!key && p.key === key && this.now() < p.until;
  }

  /** The key whose final state the room waits for, if any. */
  awaitedKey(room: string): string | null {
    return this.pending.get(room)?.key ?? null;
  }

  /** Resolves once the room waits for no final state (committed, superseded or timed out). */
  wait(room: string): Promise<void> {
    const p = this.pending.get(room);
    if (!p) return Promise.resolve();
    return new Promise((resolve) => p.waiters.push(resolve));
  }

  /** A final state (x-final-state) from `key` was committed. */
  committed(room: string, key: string): void {
    clearTimeout(this.done.get(room)?.timer);
    const timer = setTimeout(() => this.done.delete(room), this.waitMs);
    timer.unref?.();
    this.done.set(room, { key, timer });
    if (this.pending.get(room)?.key === key) this.settle(room);
  }

  /** The final state arrived (or a newer one did, or the wait is over): readers go on. */
  settle(room: string): void {
    const p = this.pending.get(room);
    if (!p) return;
    this.pending.delete(room);
    clearTimeout(p.timer);
    for (const w of p.waiters) w();
  }

  close(): void {
    for (const d of this.done.values()) clearTimeout(d.timer);
    this.done.clear();
    for (const room of [...this.pending.keys()]) this.settle(room);
  }
}
