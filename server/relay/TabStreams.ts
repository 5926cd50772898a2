import { TandemError } from '../../lib/shared/errors';
import { DEFAULT_TAB, type OutFrame, type Snapshot } from '../../lib/shared/protocol';
import { MAX_TABS_PER_ROOM } from '../../lib/shared/limits';
import { MIRROR_BYTES_PER_CELL, TerminalMirror } from './TerminalMirror';
import { FrameCoalescer, LATEST, type Merge } from './FrameCoalescer';
import { SlowGuests } from './SlowGuests';
import { SyncScheduler } from './SyncScheduler';
import type { Peer, RelayHooks, RelayOptions, RelayRestore, RelayTransport } from './relayPorts';

/** A terminal's mirror is resized at most once per this interval (the latest size wins): a resize
 * reflows the whole history, up to ~200 ms at the largest sizes, so a host resizing in a loop would
 * otherwise stall every room on the server. */
export const RESIZE_INTERVAL_MS = 100;
/**
 * Mirror memory of one room, all its terminals together (screens and history): each tab gets an
 * equal share of what the screens leave. The largest screens (500×300) of 8 tabs fit in it.
 */
export const MAX_MIRROR_BYTES_PER_ROOM = 16 * 1024 * 1024;

interface TabStream {
  title: string;
  mirror: TerminalMirror;
  /** Relay sequence number of the last frame sent to guests. */
  seq: number;
  /** Last host sequence number accepted; a new host restarts from 1. */
  hostSeq: number;
  /** Host output waiting for the tab's next frame (at most one per ~16 ms). */
  frames: FrameCoalescer;
  /** The host's latest size, applied at most once per RESIZE_INTERVAL_MS. */
  resizes: FrameCoalescer<{ cols: number; rows: number }>;
  /** The host resumed its numbering (same page): frames must follow on exactly, lost ones are resent. */
  strict?: boolean;
  /** A frame was dropped while strict (the host is asked again when its resend window ends). */
  gap?: boolean;
}

/** What the tab streams ask of the room they belong to (its seats). */
export interface TabStreamsRoom {
  roomId: string;
  transport: RelayTransport;
  hooks: RelayHooks;
  opts: RelayOptions;
  hostId(): string | null;
  guestIds(): Iterable<string>;
  hasPeer(peerId: string): boolean;
}

/**
 * A room's terminals, one stream each: the host's numbered output coalesced into frames for the
 * guests, a headless mirror that gives late joiners and resyncing guests the current screen, the
 * host's resizes, and the guests that fell behind (SlowGuests) or asked to resync (SyncScheduler).
 * Who hosts is the RoomRelay's business; this only streams.
 */
export class TabStreams {
  private tabs = new Map<string, TabStream>();
  /** Guests left out of live frames for a tab until they drain. */
  private slow: SlowGuests;
  /** Guests' resync requests: one snapshot in flight per peer, rate-limited (a looping client costs little). */
  private syncs: SyncScheduler;
  private disposed = false;

  constructor(private room: TabStreamsRoom) {
    const pending = (id: string) => room.transport.pendingBytes(id);
    this.slow = new SlowGuests(pending, (id, tab) => void this.sendSnapshot(id, tab));
    this.syncs = new SyncScheduler((peerId, tab) => this.sendSnapshot(peerId, tab), pending);
    this.tabs.set(DEFAULT_TAB, this.newTab(DEFAULT_TAB, 'Terminal'));
  }

  /** The tabs the recordings had when the server stopped: screens replayed, numbering carried on. */
  restore(tabs: RelayRestore['tabs']): void {
    for (const r of tabs) {
      const t = this.newTab(r.id, r.title, r.cols, r.rows);
      for (const d of r.replay) if (d) t.mirror.write(d, r.seq);
      t.seq = r.seq;
      t.hostSeq = r.hostSeq;
      this.disposeTab(this.tabs.get(r.id));
      this.tabs.set(r.id, t);
    }
    this.shareMirrorBudget();
  }

  private newTab(tabId: string, title: string, cols?: number, rows?: number): TabStream {
    const t: TabStream = {
      title,
      mirror: new TerminalMirror(cols, rows),
      seq: 0,
      hostSeq: 0,
      frames: new FrameCoalescer((data) => this.sendFrame(tabId, t, data), this.room.opts.frames),
      resizes: new FrameCoalescer((size) => this.applyResize(tabId, t, size), { intervalMs: RESIZE_INTERVAL_MS }, LATEST as Merge<{ cols: number; rows: number }>),
    };
    return t;
  }

  private disposeTab(t: TabStream | undefined): void {
    t?.frames.dispose();
    t?.resizes.dispose();
    t?.mirror.dispose();
  }

  /** The tabs as the room state lists them. */
  list(): { id: string; title: string }[] {
    return [...this.tabs].map(([id, t]) => ({ id, title: t.title }));
  }

  openTab(tabId: string, title: string): void {
    if (this.tabs.has(tabId)) throw new TandemError('CONFLICT', `tab ${tabId} exists`);
    if (this.tabs.size >= MAX_TABS_PER_ROOM) throw new TandemError('TOO_LARGE', `at most ${MAX_TABS_PER_ROOM} terminals per room`);
    this.tabs.set(tabId, this.newTab(tabId, title));
    this.shareMirrorBudget();
  }

  closeTab(tabId: string): void {
    if (tabId === DEFAULT_TAB) throw new TandemError('FORBIDDEN', 'the main terminal cannot be closed');
    this.disposeTab(this.tab(tabId));
    this.tabs.delete(tabId);
    this.slow.forgetTab(tabId);
    this.syncs.forgetTab(tabId);
    this.shareMirrorBudget();
  }

  /**
   * A host took the seat. `resumed`: the same page after a server restart, which resends from the
   * room's last frame, so the tabs keep their sequence numbers and take no gap; a new host starts
   * its numbering from 1.
   */
  hostSeated(resumed: boolean): void {
    for (const t of this.tabs.values()) {
      if (!resumed) t.hostSeq = 0;
      t.strict = resumed;
      t.gap = false;
    }
  }

  /** Tells a resumed host the last chunk the room has of each tab: it resends what came after. */
  ackAll(hostId: string): void {
    for (const [tab, t] of this.tabs) this.room.transport.send(hostId, 'term:ack', { tab, hostSeq: t.hostSeq });
  }

  /** The resumed host's resend window is over: a gap it could not fill is accepted, and it resends what it has after it. */
  endResend(): void {
    const hostId = this.room.hostId();
    for (const [tab, t] of this.tabs) {
      if (t.gap && hostId) this.room.transport.send(hostId, 'term:ack', { tab, hostSeq: t.hostSeq });
      t.strict = t.gap = false;
    }
  }

  /** Takes a chunk of host output: observers see it at once, guests with the tab's next frame. */
  output(tabId: string, hostSeq: number, data: string): void {
    const t = this.tab(tabId);
    if (hostSeq <= t.hostSeq) return; // a retransmit: already relayed
    // A resumed host's frames after a lost one are dropped: it resends from the ack, in order.
    if (t.strict && hostSeq !== t.hostSeq + 1) return void (t.gap = true);
    t.hostSeq = hostSeq;
    if (data.length === 0) return;
    this.room.hooks.onOutput?.(this.room.roomId, tabId, data);
    t.frames.push(data);
  }

  /** The host's new size for a tab, applied at most once per RESIZE_INTERVAL_MS. */
  resize(tabId: string, size: { cols: number; rows: number }): void {
    this.tab(tabId).resizes.push(size);
  }

  private applyResize(tabId: string, t: TabStream, size: { cols: number; rows: number }): void {
    if (this.disposed || this.tabs.get(tabId) !== t) return;
    t.frames.flush(); // output written before the resize is drawn at the old size, as the host drew it
    t.mirror.resize(size.cols, size.rows);
    this.shareMirrorBudget();
    this.room.hooks.resized?.(this.room.roomId, tabId, size.cols, size.rows);
    this.room.transport.broadcastGuests([], 'term:resize', { tab: tabId, ...size });
  }

  /** One coalesced frame: numbered, fed to the mirror, sent to every guest that keeps up. */
  private sendFrame(tabId: string, t: TabStream, data: string): void {
    if (this.disposed || this.tabs.get(tabId) !== t) return;
    t.seq += 1;
    t.mirror.write(data, t.seq);
    // The recording gets exactly the frames guests get, numbered alike; hostSeq is the host's last
    // chunk in this frame (a restarted relay acks it to the host, which resends what follows).
    this.room.hooks.record?.(this.room.roomId, tabId, t.seq, t.hostSeq, data, Date.now());
    const except = this.slow.exclude(this.room.guestIds(), tabId);
    const frame: OutFrame = { tab: tabId, seq: t.seq, data };
    this.room.transport.broadcastGuests(except, 'term:out', frame);
  }

  /** Memory the room's mirrors may hold at most (the hub caps the sum over rooms). */
  get mirrorBytes(): number {
    let n = 0;
    for (const t of this.tabs.values()) n += t.mirror.maxBytes;
    return n;
  }

  /** Splits MAX_MIRROR_BYTES_PER_ROOM: every tab keeps its screen, the rest is history, shared evenly. */
  private shareMirrorBudget(): void {
    let screens = 0;
    for (const t of this.tabs.values()) screens += t.mirror.cols * t.mirror.rows * MIRROR_BYTES_PER_CELL;
    const historyEach = Math.max(0, MAX_MIRROR_BYTES_PER_ROOM - screens) / Math.max(1, this.tabs.size);
    for (const t of this.tabs.values()) t.mirror.setBudget(t.mirror.cols * t.mirror.rows * MIRROR_BYTES_PER_CELL + historyEach);
  }

  private tab(tabId: string): TabStream {
    const t = this.tabs.get(tabId);
    if (!t) throw new TandemError('NOT_FOUND', `no terminal ${tabId} in this room`);
    return t;
  }

  /** A guest asks for a tab's current screen again (rate-limited per peer). */
  requestSync(peerId: string, tabId: string): void {
    this.tab(tabId);
    this.syncs.request(peerId, tabId);
  }

  /** A reconnecting guest gets the frames after its last one, in order; others (or gaps) a snapshot. */
  resumeOrSnapshot(peer: Peer): void {
    for (const [tab, t] of this.tabs) {
      const since = peer.resume?.[tab];
      const frames = since === undefined ? null : this.room.hooks.since?.(this.room.roomId, tab, since);
      const whole = frames && (frames.length ? frames[0].seq === since! + 1 && frames[frames.length - 1].seq === t.seq : since === t.seq);
      if (whole) for (const f of frames) this.room.transport.send(peer.id, 'term:out', { tab, seq: f.seq, data: f.data });
      else void this.sendSnapshot(peer.id, tab);
    }
  }

  /** Every tab's current screen to one peer (a host that became a guest). */
  sendSnapshots(peerId: string): void {
    for (const tab of this.tabs.keys()) void this.sendSnapshot(peerId, tab);
  }

  private async sendSnapshot(peerId: string, tabId: string): Promise<void> {
    const t = this.tabs.get(tabId);
    if (!t) return;
    const snap = await t.mirror.snapshot();
    if (!this.room.hasPeer(peerId) || this.disposed) return;
    const s: Snapshot = { tab: tabId, ...snap };
    this.room.transport.send(peerId, 'term:snapshot', s);
  }

  /** Snapshot of a tab for callers outside the socket flow (benchmarks, the command API): it
   * includes all output received, so output waiting for its frame goes out first. */
  snapshot(tabId = DEFAULT_TAB) {
    const t = this.tab(tabId);
    t.frames.flush();
    return t.mirror.snapshot();
  }

  /** The peer hosts now: it no longer waits to catch up as a slow guest. */
  noLongerGuest(peerId: string): void {
    this.slow.forgetPeer(peerId);
  }

  /** The peer left the room. */
  forgetPeer(peerId: string): void {
    this.slow.forgetPeer(peerId);
    this.syncs.forget(peerId);
  }

  dispose(): void {
    this.disposed = true;
    this.slow.close();
    this.syncs.close();
    for (const t of this.tabs.values()) this.disposeTab(t);
    this.tabs.clear();
  }
}
