import type { ProtocolErrorPayload, Seat, RoomState } from '../../shared/protocol';
import type { BootProgress } from '../vm/Engine';
import { StatusReporter, type Conn, type RoomConnection, type RoomSocket } from '../client/roomConnection';
import { Store } from './Store';

/** How long a transient notice ("Saved the VM…", a refused action) stays up. */
export const NOTICE_MS = 5000;

/** What both room pages (terminal and screen) show about the room and the connection. */
export interface CoreState {
  state: RoomState | null;
  conn: Conn;
  fatal: ProtocolErrorPayload | null;
  /** Refused after having been connected: access was taken away, not never given. */
  lostAccess: boolean;
  /** This page's own VM boot (host); guests read the host's from `state.hostStatus`. */
  boot: BootProgress | null;
  /** A transient message, cleared after NOTICE_MS. */
  notice: string | null;
  /** What the VM engine wants the host to know (fallback, storage full…). */
  engineNotice: string | null;
}

export const INITIAL_CORE: CoreState = { state: null, conn: 'connecting', fatal: null, lostAccess: false, boot: null, notice: null, engineNotice: null };

/** Opens the room's connection with the session's handlers (connectRoom bound to Socket.IO). */
export type Connect = (h: {
  onConn(c: Conn): void;
  onFatal(err: ProtocolErrorPayload | null, lost: boolean): void;
  /** At each (re)connect: the last sequence number this page shows of each tab. */
  resume?: () => Record<string, number> | undefined;
}) => RoomConnection;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}
const realTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>) };

/**
 * What the terminal room and the screen room share, free of React: the connection and its status,
 * the room state (keeping the last `me`), the seat changes host ↔ guest, boot status for the
 * server, and transient notices. Subclasses handle their own events and seat changes.
 */
export abstract class SessionCore<S extends CoreState> {
  protected readonly store: Store<S>;
  /** Where this page's terminals stand, for the server to resume from (RoomSession, guests). */
  protected resumePoint(): Record<string, number> | undefined {
    return undefined;
  }
  protected readonly socket: RoomSocket;
  protected readonly status: StatusReporter;
  /** My seat as last told by the server. */
  protected seat: Seat | null = null;
  protected disposed = false;
  private readonly conn: RoomConnection;
  private noticeTimer: unknown;

  constructor(
    initial: S,
    connect: Connect,
    protected readonly timers: Timers = realTimers,
  ) {
    this.store = new Store(initial);
    this.conn = connect({
      onConn: (conn) => this.set({ conn } as Partial<S>),
      onFatal: (fatal, lost) => this.set((s) => ({ fatal, lostAccess: s.lostAccess || (!!fatal && lost) }) as Partial<S>),
      resume: () => this.resumePoint(),
    });
    this.socket = this.conn.socket;
    this.status = new StatusReporter((st) => this.socket.emit('host:status', st));
    this.socket.on('room:state', (st) => this.onRoomState(st));
    this.socket.on('room:error', (e) => this.onRoomError(e));
  }

  readonly subscribe = (l: () => void) => this.store.subscribe(l);
  readonly getSnapshot = (): S => this.store.getSnapshot();

  protected set(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    if (!this.disposed) this.store.set(patch);
  }

  /** Shows `text` for NOTICE_MS. */
  flash(text: string): void {
    this.set({ notice: text } as Partial<S>);
    this.timers.clearTimeout(this.noticeTimer);
    this.noticeTimer = this.timers.setTimeout(() => this.set({ notice: null } as Partial<S>), NOTICE_MS);
  }

  /** The host's boot progress: shown here, and sent to the server (the command queue waits on it). */
  protected reportBoot(p: BootProgress, force: boolean): void {
    this.set({ boot: p } as Partial<S>);
    this.status.send(p, force);
  }

  private onRoomState(st: RoomState): void {
    // `me` comes only in the states sent to me alone: keep the last one.
    this.set((s) => ({ state: { ...st, me: st.me ?? s.state?.me } }) as Partial<S>);
    const was = this.seat;
    this.seat = st.seat;
    this.roomState(st, was, this.conn.takeFresh());
  }

  /**
   * A room state arrived. `was` is my seat before it (null at first); `fresh` is true once after
   * each (re)connect, the moment a host tells the server where its VMs stand again.
   */
  protected abstract roomState(st: RoomState, was: Seat | null, fresh: boolean): void;

  protected onRoomError(e: ProtocolErrorPayload): void {
    this.flash(`${e.code}: ${e.message}`);
  }

  /** The page failed outside the protocol (a script that did not load): say so like a refusal. */
  fail(err: unknown): void {
    this.set({ fatal: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } } as Partial<S>);
  }

  /** Leaves the room: the socket closes, every timer stops; the store no longer changes. */
  dispose(): void {
    this.disposed = true;
    this.timers.clearTimeout(this.noticeTimer);
    this.socket.disconnect();
  }
}
