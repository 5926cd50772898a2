/**
 * Answers `term:sync` (a guest asking for a fresh snapshot) without letting a looping client make
 * the server serialise and send a full snapshot per request: per peer, one snapshot in flight at a
 * time, a token bucket on how often, and none while the previous one still sits unsent in the
 * peer's connection. Requests that must wait are remembered (one per tab), never dropped: an
 * honest client that asked once gets its snapshot, a looping one gets no more than the bucket allows.
 */

/** Snapshots a peer may ask for at once (every terminal of a room after a reconnect). */
export const SYNC_BURST = 8;
/** Then one more per this interval. */
export const SYNC_INTERVAL_MS = 500;
/** A peer with more than this unsent waits for its connection to drain before the next snapshot. */
export const SYNC_MAX_BACKLOG_BYTES = 256 * 1024;
/** How often a peer waiting for its connection to drain is looked at again. */
const SYNC_BACKLOG_RETRY_MS = 200;

interface PeerSyncs {
  /** Tabs asked for and not yet sent. */
  wanted: Set<string>;
  inFlight: boolean;
  tokens: number;
  atMs: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface SyncCaps {
  burst: number;
  intervalMs: number;
  maxBacklogBytes: number;
}

export class SyncScheduler {
  private peers = new Map<string, PeerSyncs>();
  private closed = false;
  private readonly caps: SyncCaps;

  constructor(
    private send: (peerId: string, tab: string) => Promise<void>,
    /** Bytes accepted for the peer and not yet written to it. */
    private backlog: (peerId: string) => number,
    caps: Partial<SyncCaps> = {},
  ) {
    this.caps = { burst: SYNC_BURST, intervalMs: SYNC_INTERVAL_MS, maxBacklogBytes: SYNC_MAX_BACKLOG_BYTES, ...caps };
  }

  request(peerId: string, tab: string): void {
    if (this.closed) return;
    let p = this.peers.get(peerId);
    if (!p) this.peers.set(peerId, (p = { wanted: new Set(), inFlight: false, tokens: this.caps.burst, atMs: Date.now(), timer: null }));
    p.wanted.add(tab);
    this.pump(peerId, p);
  }

  /** The peer left: nothing more is sent to it, its timer goes. */
  forget(peerId: string): void {
    const p = this.peers.get(peerId);
    if (p?.timer) clearTimeout(p.timer);
    this.peers.delete(peerId);
  }

  /** A tab closed: nobody waits for it any more. */
  forgetTab(tab: string): void {
    for (const p of this.peers.values()) p.wanted.delete(tab);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.peers.keys()]) this.forget(id);
  }

  private pump(peerId: string, p: PeerSyncs): void {
    if (this.closed || p.inFlight || p.timer || p.wanted.size === 0 || this.peers.get(peerId) !== p) return;
    const now = Date.now();
    p.tokens = Math.min(this.caps.burst, p.tokens + (Math.max(0, now - p.atMs) / this.caps.intervalMs));
    p.atMs = now;
    const waitMs =
      p.tokens < 1 ? Math.ceil((1 - p.tokens) * this.caps.intervalMs) : this.backlog(peerId) > this.caps.maxBacklogBytes ? SYNC_BACKLOG_RETRY_MS : 0;
    if (waitMs > 0) {
      p.timer = setTimeout(() => {
        p.timer = null;
        this.pump(peerId, p);
      }, waitMs);
      return;
    }
    p.tokens -= 1;
    const tab = p.wanted.values().next().value!;
    p.wanted.delete(tab);
    p.inFlight = true;
    void this.send(peerId, tab)
      .catch(() => {})
      .finally(() => {
        p.inFlight = false;
        this.pump(peerId, p);
      });
  }
}
