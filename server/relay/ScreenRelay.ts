import { MIN_SCREEN_FRAME_INTERVAL_MS, type ScreenFrame } from '../../lib/shared/protocol';
import type { RelayTransport } from './RoomRelay';

/** A guest whose connection holds more unsent bytes than this skips frames until it drains
 * (frames replace each other, so it then gets only the latest). */
export const MAX_PENDING_SCREEN_BYTES_PER_GUEST = 1024 * 1024;
const BEHIND_CHECK_MS = 200;

export interface ScreenRelayOptions {
  /** Guests of the room right now (the relay sends frames to no one else). */
  guests: () => Iterable<string>;
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * The host VM's screen for a room's guests, free of any transport. Frames replace each other, so
 * nothing queues: the latest is kept for late joiners, guests get at most one frame per
 * `minIntervalMs` (a faster host's frames in between are coalesced into the latest), and a guest
 * that is not draining its connection skips frames and gets the latest once it has caught up.
 */
export class ScreenRelay {
  private latest: ScreenFrame | null = null;
  /** Relay-side frame number: guests see 1, 2, 3… whatever the host's own counter does. */
  private seq = 0;
  private hostSeq = 0;
  private lastSentAt = -Infinity;
  private pending = false;
  private throttle: ReturnType<typeof setTimeout> | null = null;
  private behind = new Set<string>();
  private behindTimer: ReturnType<typeof setInterval> | null = null;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private transport: RelayTransport,
    private opts: ScreenRelayOptions,
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? MIN_SCREEN_FRAME_INTERVAL_MS;
    this.now = opts.now ?? (() => Date.now());
  }

  /** The frame a guest joining now would get. */
  get latestFrame(): ScreenFrame | null {
    return this.latest;
  }

  /** A new host numbers its frames from 1 again. */
  hostChanged(): void {
    this.hostSeq = 0;
  }

  /** A frame from the host (already validated). Returns false for a stale or repeated one. */
  frame(f: ScreenFrame): boolean {
    if (f.seq <= this.hostSeq) return false;
    this.hostSeq = f.seq;
    this.latest = { ...f, seq: ++this.seq };
    const wait = this.lastSentAt + this.minIntervalMs - this.now();
    if (wait <= 0 && !this.throttle) this.broadcast();
    else {
      this.pending = true;
      this.throttle ??= setTimeout(() => {
        this.throttle = null;
        if (this.pending) this.broadcast();
      }, Math.max(wait, 0));
    }
    return true;
  }

  /** Gives a joining guest the current screen at once. */
  sendLatest(peerId: string): void {
    if (this.latest) this.transport.send(peerId, 'screen:frame', this.latest);
  }

  forget(peerId: string): void {
    this.behind.delete(peerId);
  }

  private broadcast(): void {
    const f = this.latest;
    this.pending = false;
    if (!f) return;
    this.lastSentAt = this.now();
    const except: string[] = [...this.behind];
    for (const id of this.opts.guests()) {
      if (this.behind.has(id)) continue;
      if (this.transport.pendingBytes(id) > MAX_PENDING_SCREEN_BYTES_PER_GUEST) {
        except.push(id);
        this.behind.add(id);
      }
    }
    if (this.behind.size) this.behindTimer ??= setInterval(() => this.checkBehind(), BEHIND_CHECK_MS);
    this.transport.broadcastGuests(except, 'screen:frame', f);
  }

  private checkBehind(): void {
    for (const id of this.behind) {
      if (this.transport.pendingBytes(id) > MAX_PENDING_SCREEN_BYTES_PER_GUEST / 4) continue;
      this.behind.delete(id);
      this.sendLatest(id);
    }
    if (this.behind.size === 0 && this.behindTimer) {
      clearInterval(this.behindTimer);
      this.behindTimer = null;
    }
  }

  close(): void {
    if (this.throttle) clearTimeout(this.throttle);
    if (this.behindTimer) clearInterval(this.behindTimer);
    this.throttle = null;
    this.behindTimer = null;
    this.behind.clear();
    this.latest = null;
  }
}
