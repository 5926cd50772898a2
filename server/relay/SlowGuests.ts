/** A guest whose transport holds more unsent bytes than this stops getting live frames and
 * receives a fresh snapshot once it has drained: a slow guest never grows server memory. */
export const MAX_PENDING_BYTES_PER_GUEST = 1024 * 1024;
const STALE_CHECK_MS = 200;

/**
 * Guests left out of a terminal's live frames because they did not keep up. Each is resynced from
 * a snapshot once its buffer has drained to a quarter of the cap, so what the server holds for one
 * slow guest stays below MAX_PENDING_BYTES_PER_GUEST plus one frame.
 */
export class SlowGuests {
  /** peer id → tabs it misses frames of. */
  private stale = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private pendingBytes: (peerId: string) => number,
    private resync: (peerId: string, tabId: string) => void,
  ) {}

  /** Of `guests`, those a frame of `tabId` must skip: already behind, or over the cap now. */
  exclude(guests: Iterable<string>, tabId: string): string[] {
    const out: string[] = [];
    for (const id of guests) {
      if (this.stale.get(id)?.has(tabId)) out.push(id);
      else if (this.pendingBytes(id) > MAX_PENDING_BYTES_PER_GUEST) {
        out.push(id);
        this.mark(id, tabId);
      }
    }
    return out;
  }

  forgetPeer(peerId: string): void {
    this.stale.delete(peerId);
  }

  forgetTab(tabId: string): void {
    for (const s of this.stale.values()) s.delete(tabId);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stale.clear();
  }

  private mark(peerId: string, tabId: string): void {
    let s = this.stale.get(peerId);
    if (!s) this.stale.set(peerId, (s = new Set()));
    s.add(tabId);
    this.timer ??= setInterval(() => this.check(), STALE_CHECK_MS);
  }

  private check(): void {
    for (const [peerId, tabs] of this.stale) {
      if (this.pendingBytes(peerId) > MAX_PENDING_BYTES_PER_GUEST / 4) continue;
      this.stale.delete(peerId);
      for (const tab of tabs) this.resync(peerId, tab);
    }
    if (this.stale.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
