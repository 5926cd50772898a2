import { TandemError } from '../../lib/shared/errors';
import {
  DEFAULT_TAB,
  isInboundEvent,
  parseClientEvent,
  type ClientPayload,
  type HostStatus,
  type InboundEvent,
  type MemberInfo,
  type OutFrame,
  type RoomState,
  type Seat,
  type ScreenFrame,
  type Snapshot,
} from '../../lib/shared/protocol';
import { MIRROR_BYTES_PER_CELL, TerminalMirror } from './TerminalMirror';
import { ScreenRelay } from './ScreenRelay';
import { FrameCoalescer, LATEST, type Merge } from './FrameCoalescer';
import { SlowGuests } from './SlowGuests';
import { SyncScheduler } from './SyncScheduler';
import { HostSeat } from './HostSeat';
import { HostHandover } from './HostHandover';
import type { Peer, RelayHooks, RelayOptions, RelayTransport } from './relayPorts';

export type { Peer, RelayHooks, RelayOptions, RelayRestore, RelayTransport } from './relayPorts';

export { HOST_SEAT_KEPT_MS } from './HostSeat';
export { YIELD_TIMEOUT_MS } from './HostHandover';

export { MAX_PENDING_BYTES_PER_GUEST } from './SlowGuests';
/** Input queued towards the host beyond this is refused with RATE_LIMITED. */
export const MAX_PENDING_BYTES_TO_HOST = 256 * 1024;
export { MAX_TABS_PER_ROOM } from '../../lib/shared/limits';
import { MAX_TABS_PER_ROOM } from '../../lib/shared/limits';
/** A terminal's mirror is resized at most once per this interval (the latest size wins): a resize
 * reflows the whole history, up to ~200 ms at the largest sizes, so a host resizing in a loop would
 * otherwise stall every room on the server. */
export const RESIZE_INTERVAL_MS = 100;
/**
 * Mirror memory of one room, all its terminals together (screens and history): each tab gets an
 * equal share of what the screens leave. The largest screens (500×300) of 8 tabs fit in it.
 */
export const MAX_MIRROR_BYTES_PER_ROOM = 16 * 1024 * 1024;
/** Guests leaving together (a network blip, a class closing laptops) get one head count, not one per
 * departure: per-departure broadcasts cost O(guests²) sends, seconds of server time at 500 guests. */
const STATE_COALESCE_MS = 50;

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

/**
 * One room's live terminal sharing, free of any transport: the first peer to ask becomes host and
 * runs the VM; its output goes to every guest in order, through a headless mirror that gives late
 * joiners the current screen; guests' keystrokes go to the host.
 */
export class RoomRelay {
  private peers = new Map<string, Peer>();
  private hostId: string | null = null;
  private hostStatus: HostStatus | null = null;
  private tabs = new Map<string, TabStream>();
  /** Guests left out of live frames for a tab until they drain. */
  private slow: SlowGuests;
  private stateTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** The VM's graphical screen, for rooms that share one (/alpine). */
  private screen: ScreenRelay;
  /** The page that hosts (or hosted last), and the seat kept for it after a restart. */
  private keptSeat = new HostSeat(
    () => this.releaseSeat(),
    () => this.endResend(),
  );
  /** Who runs the VM next: the host's upload key, Take over, Give host to … (HostHandover). */
  private handover: HostHandover;
  /** Guests' resync requests: one snapshot in flight per peer, rate-limited (a looping client costs little). */
  private syncs: SyncScheduler;

  constructor(
    readonly roomId: string,
    private transport: RelayTransport,
    private hooks: RelayHooks = {},
    private opts: RelayOptions = {},
  ) {
    this.screen = new ScreenRelay(transport, { guests: () => this.guestIds() });
    this.handover = new HostHandover(
      {
        peer: (id) => this.peers.get(id),
        peers: () => this.peers.values(),
        hostId: () => this.hostId,
        moveHost: (id) => this.moveHost(id),
        closed: () => this.closed,
      },
      transport,
    );
    this.slow = new SlowGuests(
      (id) => transport.pendingBytes(id),
      (id, tab) => void this.sendSnapshot(id, tab),
    );
    this.syncs = new SyncScheduler((peerId, tab) => this.sendSnapshot(peerId, tab), (peerId) => transport.pendingBytes(peerId));
    this.tabs.set(DEFAULT_TAB, this.newTab(DEFAULT_TAB, 'Terminal'));
    const restored = hooks.restore?.(roomId);
    if (restored) {
      for (const r of restored.tabs) {
        const t = this.newTab(r.id, r.title, r.cols, r.rows);
        for (const d of r.replay) if (d) t.mirror.write(d, r.seq);
        t.seq = r.seq;
        t.hostSeq = r.hostSeq;
        this.disposeTab(this.tabs.get(r.id));
        this.tabs.set(r.id, t);
      }
      this.shareMirrorBudget();
      this.keptSeat.keepFor(restored.hostClientId);
    }
  }

  private newTab(tabId: string, title: string, cols?: number, rows?: number): TabStream {
    const t: TabStream = {
      title,
      mirror: new TerminalMirror(cols, rows),
      seq: 0,
      hostSeq: 0,
      frames: new FrameCoalescer((data) => this.sendFrame(tabId, t, data), this.opts.frames),
      resizes: new FrameCoalescer((size) => this.applyResize(tabId, t, size), { intervalMs: RESIZE_INTERVAL_MS }, LATEST as Merge<{ cols: number; rows: number }>),
    };
    return t;
  }

  private disposeTab(t: TabStream | undefined): void {
    t?.frames.dispose();
    t?.resizes.dispose();
    t?.mirror.dispose();
  }

  get size(): number {
    return this.peers.size;
  }

  get hasHost(): boolean {
    return this.hostId !== null;
  }

  /** The page (client id) holding the host seat, if any. */
  get hostClientId(): string | null {
    return this.hostId ? (this.peers.get(this.hostId)?.clientId ?? null) : null;
  }

  /** The connection holding the host seat (its transport id), if any. */
  get hostPeerId(): string | null {
    return this.hostId;
  }

  /** Seats the peer (the host seat if it wants it and it is free) and returns its seat. */
  handleConnect(peer: Peer): Seat {
    this.peers.set(peer.id, peer);
    // The same browser tab reconnecting before its old connection timed out takes its seat back.
    const current = this.hostId ? this.peers.get(this.hostId) : undefined;
    if (peer.wantHost && current && current.clientId === peer.clientId && current.id !== peer.id) {
      this.peers.delete(current.id);
      this.hostId = null;
      this.transport.disconnect(current.id);
    }
    // A person arriving who may host takes the VM from the server's headless host, which saves it
    // first and then gives it (host:yield; bounded, see HostHandover): they watch until then.
    const fromHeadless = peer.wantHost && !peer.headless && !!current?.headless && this.hostId === current.id;
    // After a restart the page that hosted keeps its seat for a few seconds (it still runs the VM).
    const seatKept = this.keptSeat.keptFrom(peer.clientId, peer.wantHost);
    const seat: Seat = peer.wantHost && this.hostId === null && !seatKept ? 'host' : 'guest';
    const resumed = seat === 'host' && this.keptSeat.isLast(peer.clientId);
    if (seat === 'host') this.seatHost(peer, resumed);
    this.transport.setGuest(peer.id, seat === 'guest');
    this.transport.send(peer.id, 'room:state', { ...this.state(seat), me: peer.me });
    if (seat === 'host') {
      // The same page again: it resends what came after the last frame the room has.
      if (resumed) for (const [tab, t] of this.tabs) this.transport.send(peer.id, 'term:ack', { tab, hostSeq: t.hostSeq });
      this.broadcastState();
      this.hooks.onHostChange?.(this.roomId, true);
    }
    else {
      this.resumeOrSnapshot(peer);
      this.screen.sendLatest(peer.id);
      // Everyone's guest count (the host streams its screen only while someone watches).
      this.scheduleState();
      if (fromHeadless) this.handover.take(peer);
    }
    return seat;
  }

  /** The previous host did not come back in time: the first page waiting to host gets the seat. */
  private releaseSeat(): void {
    if (this.closed || this.hostId) return;
    const next = [...this.peers.values()].find((p) => p.wantHost);
    if (!next) return;
    this.seatHost(next);
    this.transport.setGuest(next.id, false);
    this.slow.forgetPeer(next.id);
    this.transport.send(next.id, 'room:state', { ...this.state('host'), me: next.me });
    this.broadcastState();
    this.hooks.onHostChange?.(this.roomId, true);
  }

  /**
   * A peer's access changed (promoted, demoted): it gets its new `me`, and a host that may no longer
   * host steps down to guest (its page stops its VM; the room waits for another host).
   */
  updatePeer(peerId: string, change: { me: MemberInfo; wantHost: boolean }): void {
    const peer = this.peers.get(peerId);
    if (!peer || this.closed) return;
    peer.me = change.me;
    peer.wantHost = change.wantHost;
    const isHost = this.hostId === peerId;
    if (isHost && !change.wantHost) {
      this.hostId = null;
      this.hostStatus = null;
      this.transport.setGuest(peerId, true);
      this.transport.send(peerId, 'room:state', { ...this.state('guest'), me: peer.me });
      this.sendSnapshots(peerId);
      this.screen.sendLatest(peerId);
      this.broadcastState();
      this.hooks.onHostChange?.(this.roomId, false);
      return;
    }
    this.transport.send(peerId, 'room:state', { ...this.state(isHost ? 'host' : 'guest'), me: peer.me });
  }

  /**
   * `peer` takes the host seat: a new upload key for the room's VM state, the screen from its VM,
   * sequence numbers from 1. `resumed`: the same page after a server restart, which resends from
   * the room's last frame, so the tabs keep their sequence numbers and take no gap.
   */
  private seatHost(peer: Peer, resumed = false): void {
    this.hostId = peer.id;
    this.hostStatus = null;
    this.keptSeat.taken(peer.clientId, resumed);
    this.handover.seated();
    for (const t of this.tabs.values()) {
      if (!resumed) t.hostSeq = 0;
      t.strict = resumed;
      t.gap = false;
    }
    this.screen.hostChanged();
  }

  /** The resumed host's resend window is over: a gap it could not fill is accepted, and it resends what it has after it. */
  private endResend(): void {
    for (const [tab, t] of this.tabs) {
      if (t.gap && this.hostId) this.transport.send(this.hostId, 'term:ack', { tab, hostSeq: t.hostSeq });
      t.strict = t.gap = false;
    }
  }

  /** Whether `key` may upload the room's VM state now (HostHandover). */
  mayUpload(key: string): boolean {
    return this.handover.mayUpload(key);
  }

  /** The seat moves from the current host (if any, it becomes a guest) to `peerId`. */
  private moveHost(peerId: string): void {
    const prev = this.hostId ? this.peers.get(this.hostId) : undefined;
    const next = this.peers.get(peerId);
    if (!next) return;
    this.seatHost(next);
    this.transport.setGuest(peerId, false);
    this.transport.send(peerId, 'room:state', { ...this.state('host'), me: this.peers.get(peerId)?.me });
    if (prev) {
      this.transport.setGuest(prev.id, true);
      this.transport.send(prev.id, 'room:state', { ...this.state('guest'), me: prev.me });
      this.sendSnapshots(prev.id);
      this.screen.sendLatest(prev.id);
    }
    this.broadcastState();
    this.hooks.onHostChange?.(this.roomId, true);
  }

  handleClose(peerId: string): void {
    if (!this.peers.delete(peerId)) return;
    this.slow.forgetPeer(peerId);
    this.handover.forget(peerId);
    this.screen.forget(peerId);
    this.syncs.forget(peerId);
    const wasHost = peerId === this.hostId;
    if (wasHost) {
      this.hostId = null;
      this.hostStatus = null;
      this.broadcastState();
    } else this.scheduleState();
    if (wasHost) this.hooks.onHostChange?.(this.roomId, false);
  }

  /** Input from the server itself (the command queue), typed into the host's VM like a guest's keys. */
  injectInput(tab: string, data: string): boolean {
    if (!this.hostId || this.closed) return false;
    this.transport.send(this.hostId, 'term:in', { tab, data });
    return true;
  }

  /** The host's last reported VM phase, e.g. 'ready' once its shell prompt is up. */
  get hostPhase(): HostStatus['phase'] | null {
    return this.hostStatus?.phase ?? null;
  }

  /** Validates and applies one inbound event (transport-free callers: tests, benchmarks). Throws TandemError for anything refused. */
  handleMessage(peerId: string, event: string, payload: unknown): void {
    if (!isInboundEvent(event)) throw new TandemError('BAD_MESSAGE', `unknown event ${event}`);
    this.handle(peerId, event, parseClientEvent(event, payload));
  }

  /** Applies one inbound event whose payload the transport validated (parseClientEvent). Throws TandemError for anything refused. */
  handle<E extends InboundEvent>(peerId: string, event: E, msg: ClientPayload<E>): void {
    if (this.closed) return;
    const peer = this.peers.get(peerId);
    if (!peer) throw new TandemError('FORBIDDEN', 'not connected to this room');
    this.handlers[event](peer, msg, peerId === this.hostId);
  }

  /** One handler per inbound event, each given the sender, its validated payload and whether the sender hosts. */
  private readonly handlers: { [E in InboundEvent]: (peer: Peer, msg: ClientPayload<E>, isHost: boolean) => void } = {
    'term:out': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host sends terminal output');
      this.output(m.tab, m.seq, m.data);
    },
    'term:resize': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host resizes the terminal');
      this.tab(m.tab).resizes.push({ cols: m.cols, rows: m.rows });
    },
    'host:status': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host reports VM status');
      // The same status again (a host re-sending after a reconnect) changes nothing for anyone.
      if (this.hostStatus && sameStatus(this.hostStatus, m)) return;
      this.hostStatus = m;
      this.broadcastState();
    },
    'term:in': (_, m) => this.transport.send(this.inputTarget(), 'term:in', m),
    'screen:frame': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host sends the screen');
      this.screen.frame(m);
    },
    'screen:input': (_, m) => this.transport.send(this.inputTarget(), 'screen:input', m),
    'term:sync': (peer, m) => {
      this.tab(m.tab);
      this.syncs.request(peer.id, m.tab);
    },
    'tab:open': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host opens terminals');
      if (this.tabs.has(m.tab)) throw new TandemError('CONFLICT', `tab ${m.tab} exists`);
      if (this.tabs.size >= MAX_TABS_PER_ROOM) throw new TandemError('TOO_LARGE', `at most ${MAX_TABS_PER_ROOM} terminals per room`);
      this.tabs.set(m.tab, this.newTab(m.tab, m.title));
      this.shareMirrorBudget();
      this.broadcastState();
    },
    'host:take': (peer) => this.handover.take(peer),
    'host:give': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host gives the VM away');
      this.handover.give(m.to);
    },
    'tab:close': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host closes terminals');
      if (m.tab === DEFAULT_TAB) throw new TandemError('FORBIDDEN', 'the main terminal cannot be closed');
      this.disposeTab(this.tab(m.tab));
      this.tabs.delete(m.tab);
      this.slow.forgetTab(m.tab);
      this.syncs.forgetTab(m.tab);
      this.shareMirrorBudget();
      this.broadcastState();
    },
  };

  /** The host, for keys and mouse from guests; refused when the host is away or not keeping up. */
  private inputTarget(): string {
    if (!this.hostId) throw new TandemError('NO_HOST', 'the host is away; input was not delivered');
    if (this.transport.pendingBytes(this.hostId) > MAX_PENDING_BYTES_TO_HOST)
      throw new TandemError('RATE_LIMITED', 'the host is not keeping up; input was dropped');
    return this.hostId;
  }

  /** Takes a chunk of host output: observers see it at once, guests with the tab's next frame. */
  private output(tabId: string, hostSeq: number, data: string): void {
    const t = this.tab(tabId);
    if (hostSeq <= t.hostSeq) return; // a retransmit: already relayed
    // A resumed host's frames after a lost one are dropped: it resends from the ack, in order.
    if (t.strict && hostSeq !== t.hostSeq + 1) return void (t.gap = true);
    t.hostSeq = hostSeq;
    if (data.length === 0) return;
    this.hooks.onOutput?.(this.roomId, tabId, data);
    t.frames.push(data);
  }

  private applyResize(tabId: string, t: TabStream, size: { cols: number; rows: number }): void {
    if (this.closed || this.tabs.get(tabId) !== t) return;
    t.frames.flush(); // output written before the resize is drawn at the old size, as the host drew it
    t.mirror.resize(size.cols, size.rows);
    this.shareMirrorBudget();
    this.hooks.resized?.(this.roomId, tabId, size.cols, size.rows);
    this.transport.broadcastGuests([], 'term:resize', { tab: tabId, ...size });
  }

  /** One coalesced frame: numbered, fed to the mirror, sent to every guest that keeps up. */
  private sendFrame(tabId: string, t: TabStream, data: string): void {
    if (this.closed || this.tabs.get(tabId) !== t) return;
    t.seq += 1;
    t.mirror.write(data, t.seq);
    // The recording gets exactly the frames guests get, numbered alike; hostSeq is the host's last
    // chunk in this frame (a restarted relay acks it to the host, which resends what follows).
    this.hooks.record?.(this.roomId, tabId, t.seq, t.hostSeq, data, Date.now());
    const except = this.slow.exclude(this.guestIds(), tabId);
    const frame: OutFrame = { tab: tabId, seq: t.seq, data };
    this.transport.broadcastGuests(except, 'term:out', frame);
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

  private *guestIds(): Iterable<string> {
    for (const id of this.peers.keys()) if (id !== this.hostId) yield id;
  }

  /** The latest screen frame guests were given (tests, diagnostics). */
  get latestScreenFrame(): ScreenFrame | null {
    return this.screen.latestFrame;
  }

  private tab(tabId: string): TabStream {
    const t = this.tabs.get(tabId);
    if (!t) throw new TandemError('NOT_FOUND', `no terminal ${tabId} in this room`);
    return t;
  }

  /** A reconnecting guest gets the frames after its last one, in order; others (or gaps) a snapshot. */
  private resumeOrSnapshot(peer: Peer): void {
    for (const [tab, t] of this.tabs) {
      const since = peer.resume?.[tab];
      const frames = since === undefined ? null : this.hooks.since?.(this.roomId, tab, since);
      const whole = frames && (frames.length ? frames[0].seq === since! + 1 && frames[frames.length - 1].seq === t.seq : since === t.seq);
      if (whole) for (const f of frames) this.transport.send(peer.id, 'term:out', { tab, seq: f.seq, data: f.data });
      else void this.sendSnapshot(peer.id, tab);
    }
  }

  private sendSnapshots(peerId: string): void {
    for (const tab of this.tabs.keys()) void this.sendSnapshot(peerId, tab);
  }

  private async sendSnapshot(peerId: string, tabId: string): Promise<void> {
    const t = this.tabs.get(tabId);
    if (!t) return;
    const snap = await t.mirror.snapshot();
    if (!this.peers.has(peerId) || this.closed) return;
    const s: Snapshot = { tab: tabId, ...snap };
    this.transport.send(peerId, 'term:snapshot', s);
  }

  /** Snapshot of a tab for callers outside the socket flow (benchmarks, the command API): it
   * includes all output received, so output waiting for its frame goes out first. */
  snapshot(tabId = DEFAULT_TAB) {
    const t = this.tab(tabId);
    t.frames.flush();
    return t.mirror.snapshot();
  }

  private state(seat: Seat): RoomState {
    const host = this.hostId ? this.peers.get(this.hostId) : undefined;
    return {
      ...(seat === 'host' ? this.handover.forHost() : {}),
      hostName: host ? (host.name ?? 'Guest') : null,
      room: this.roomId,
      seat,
      hostConnected: this.hostId !== null,
      hostHeadless: !!host?.headless,
      hostStatus: this.hostStatus,
      guests: this.peers.size - (this.hostId ? 1 : 0),
      tabs: [...this.tabs].map(([id, t]) => ({ id, title: t.title })),
    };
  }

  /** A state for everyone soon: a class arriving or leaving at once costs one broadcast, not one each. */
  private scheduleState(): void {
    this.stateTimer ??= setTimeout(() => {
      this.stateTimer = null;
      if (!this.closed) this.broadcastState();
    }, STATE_COALESCE_MS);
  }

  private broadcastState(): void {
    if (this.stateTimer) clearTimeout(this.stateTimer); // this one carries the latest count
    this.stateTimer = null;
    this.transport.broadcastGuests([], 'room:state', this.state('guest'));
    if (this.hostId) this.transport.send(this.hostId, 'room:state', this.state('host'));
  }

  close(): void {
    this.closed = true;
    this.keptSeat.close();
    this.handover.close();
    this.screen.close();
    this.slow.close();
    this.syncs.close();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    for (const t of this.tabs.values()) this.disposeTab(t);
    this.tabs.clear();
    this.peers.clear();
  }
}

function sameStatus(a: HostStatus, b: HostStatus): boolean {
  return a.tab === b.tab && a.phase === b.phase && a.progress === b.progress && a.message === b.message && a.stopped === b.stopped;
}
