import { TandemError } from '../../lib/shared/errors';
import {
  DEFAULT_TAB,
  isInboundEvent,
  parseClientEvent,
  type ClientPayload,
  type HostStatus,
  type InboundEvent,
  type MemberInfo,
  type RoomState,
  type Seat,
  type ScreenFrame,
} from '../../lib/shared/protocol';
import { ScreenRelay } from './ScreenRelay';
import { HostSeat } from './HostSeat';
import { HostHandover } from './HostHandover';
import { TabStreams } from './TabStreams';
import type { Peer, RelayHooks, RelayOptions, RelayTransport } from './relayPorts';

export type { Peer, RelayHooks, RelayOptions, RelayRestore, RelayTransport } from './relayPorts';

export { HOST_SEAT_KEPT_MS } from './HostSeat';
export { YIELD_TIMEOUT_MS } from './HostHandover';

export { MAX_PENDING_BYTES_PER_GUEST } from './SlowGuests';
/** Input queued towards the host beyond this is refused with RATE_LIMITED. */
export const MAX_PENDING_BYTES_TO_HOST = 256 * 1024;
export { MAX_TABS_PER_ROOM } from '../../lib/shared/limits';
export { MAX_MIRROR_BYTES_PER_ROOM, RESIZE_INTERVAL_MS } from './TabStreams';
/** Guests leaving together (a network blip, a class closing laptops) get one head count, not one per
 * departure: per-departure broadcasts cost O(guests²) sends, seconds of server time at 500 guests. */
const STATE_COALESCE_MS = 50;

/**
 * One room's live terminal sharing, free of any transport: the first peer to ask becomes host and
 * runs the VM; its output goes to every guest in order, through a headless mirror that gives late
 * joiners the current screen; guests' keystrokes go to the host.
 */
export class RoomRelay {
  private peers = new Map<string, Peer>();
  private hostId: string | null = null;
  private hostStatus: HostStatus | null = null;
  /** The room's terminals: output to guests in order, mirrors for late joiners (TabStreams). */
  private tabs: TabStreams;
  private stateTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** The VM's graphical screen, for rooms that share one (/alpine). */
  private screen: ScreenRelay;
  /** The page that hosts (or hosted last), and the seat kept for it after a restart. */
  private keptSeat = new HostSeat(
    () => this.releaseSeat(),
    () => this.tabs.endResend(),
  );
  /** Who runs the VM next: the host's upload key, Take over, Give host to … (HostHandover). */
  private handover: HostHandover;

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
    this.tabs = new TabStreams({
      roomId,
      transport,
      hooks,
      opts,
      hostId: () => this.hostId,
      guestIds: () => this.guestIds(),
      hasPeer: (id) => this.peers.has(id),
    });
    const restored = hooks.restore?.(roomId);
    if (restored) {
      this.tabs.restore(restored.tabs);
      this.keptSeat.keepFor(restored.hostClientId);
    }
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
      if (resumed) this.tabs.ackAll(peer.id);
      this.broadcastState();
      this.hooks.onHostChange?.(this.roomId, true);
    }
    else {
      this.tabs.resumeOrSnapshot(peer);
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
    this.tabs.noLongerGuest(next.id);
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
      this.tabs.sendSnapshots(peerId);
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
    this.tabs.hostSeated(resumed);
    this.screen.hostChanged();
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
      this.tabs.sendSnapshots(prev.id);
      this.screen.sendLatest(prev.id);
    }
    this.broadcastState();
    this.hooks.onHostChange?.(this.roomId, true);
  }

  handleClose(peerId: string): void {
    if (!this.peers.delete(peerId)) return;
    this.tabs.forgetPeer(peerId);
    this.handover.forget(peerId);
    this.screen.forget(peerId);
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
      this.tabs.output(m.tab, m.seq, m.data);
    },
    'term:resize': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host resizes the terminal');
      this.tabs.resize(m.tab, { cols: m.cols, rows: m.rows });
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
    'term:sync': (peer, m) => this.tabs.requestSync(peer.id, m.tab),
    'tab:open': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host opens terminals');
      this.tabs.openTab(m.tab, m.title);
      this.broadcastState();
    },
    'host:take': (peer) => this.handover.take(peer),
    'host:give': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host gives the VM away');
      this.handover.give(m.to);
    },
    'tab:close': (_, m, isHost) => {
      if (!isHost) throw new TandemError('NOT_HOST', 'only the host closes terminals');
      this.tabs.closeTab(m.tab);
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

  /** Memory the room's mirrors may hold at most (the hub caps the sum over rooms). */
  get mirrorBytes(): number {
    return this.tabs.mirrorBytes;
  }

  private *guestIds(): Iterable<string> {
    for (const id of this.peers.keys()) if (id !== this.hostId) yield id;
  }

  /** The latest screen frame guests were given (tests, diagnostics). */
  get latestScreenFrame(): ScreenFrame | null {
    return this.screen.latestFrame;
  }

  /** Snapshot of a tab for callers outside the socket flow (benchmarks, the command API): it
   * includes all output received, so output waiting for its frame goes out first. */
  snapshot(tabId = DEFAULT_TAB) {
    return this.tabs.snapshot(tabId);
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
      tabs: this.tabs.list(),
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
    this.tabs.dispose();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.peers.clear();
  }
}

function sameStatus(a: HostStatus, b: HostStatus): boolean {
  return a.tab === b.tab && a.phase === b.phase && a.progress === b.progress && a.message === b.message && a.stopped === b.stopped;
}
