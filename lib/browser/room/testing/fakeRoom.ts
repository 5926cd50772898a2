import type { ProtocolErrorPayload, RoomState, ServerToClientEvents } from '../../../shared/protocol';
import type { Conn, RoomConnection, RoomSocket } from '../../client/roomConnection';
import type { Engine } from '../../vm/Engine';
import type { Connect, Timers } from '../SessionCore';
import type { TermView, TermViewHandlers, ViewOptions } from '../TermView';
import { RoomSession, type EngineRequest, type RoomSessionDeps } from '../RoomSession';

/**
 * A Socket.IO client stand-in for the sessions' unit tests (the e2e tests use the real one): it
 * records what the page emits, and `receive` plays what the server would send.
 */
export function fakeConnection() {
  const sent: { event: string; payload: unknown }[] = [];
  const handlers = new Map<string, ((...a: unknown[]) => void)[]>();
  let fresh = true;
  let hooks: Parameters<Connect>[0] | null = null;
  const socket = {
    connected: true,
    sendBuffer: [] as unknown[],
    disconnected: false,
    on(event: string, fn: (...a: unknown[]) => void) {
      handlers.set(event, [...(handlers.get(event) ?? []), fn]);
      return socket;
    },
    emit(event: string, payload?: unknown) {
      sent.push({ event, payload });
      return socket;
    },
    disconnect() {
      socket.disconnected = true;
      return socket;
    },
  };
  const connect: Connect = (h) => {
    hooks = h;
    return { socket: socket as unknown as RoomSocket, takeFresh: () => [fresh, (fresh = false)][0] } satisfies RoomConnection;
  };
  return {
    connect,
    socket,
    sent,
    of: (event: string) => sent.filter((s) => s.event === event).map((s) => s.payload),
    receive<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>) {
      for (const fn of handlers.get(event) ?? []) fn(...args);
    },
    /** The next room:state counts as the first after a (re)connect. */
    reconnected: () => void (fresh = true),
    conn: (c: Conn) => hooks?.onConn(c),
    fatal: (err: ProtocolErrorPayload | null, lost: boolean) => hooks?.onFatal(err, lost),
  };
}

export function roomState(over: Partial<RoomState> = {}): RoomState {
  return { room: 'r1', seat: 'guest', hostConnected: true, hostHeadless: false, hostStatus: null, guests: 0, tabs: [{ id: 'main', title: 'Terminal' }], ...over };
}

/** A terminal view that records what it was told to do. */
export class FakeView implements TermView {
  engine: Engine | null = null;
  starting = false;
  hostSeq = 0;
  visible = false;
  readOnly = false;
  disposed = false;
  written = '';
  resets = 0;
  fits = 0;
  size = { cols: 80, rows: 24 };
  jumps: number[] = [];
  frames: unknown[] = [];
  options: ViewOptions | null = null;
  constructor(
    readonly id: string,
    readonly h: TermViewHandlers,
  ) {}
  cols = () => this.size.cols;
  rows = () => this.size.rows;
  show = (v: boolean) => void (this.visible = v);
  /** The size the next fit gives (the box changed). */
  boxSize: { cols: number; rows: number } | null = null;
  fitToBox = () => void (this.fits++, this.boxSize && (this.size = this.boxSize));
  reset = () => void ((this.resets++, (this.written = '')));
  resize = (cols: number, rows: number) => void (this.size = { cols, rows });
  write = (d: string) => void (this.written += d);
  setReadOnly = (ro: boolean) => void (this.readOnly = ro);
  jump = (d: -1 | 1) => void this.jumps.push(d);
  snapshot = (s: unknown) => void this.frames.push(s);
  out = (f: unknown) => void this.frames.push(f);
  configure = (o: ViewOptions) => void (this.options = o);
  stopEngine = async () => {
    const e = this.engine;
    this.engine = null;
    await e?.destroy();
  };
  dispose = () => void (this.disposed = true);
}

/** A VM engine whose boot and output the test drives. */
export class FakeEngine implements Engine {
  readonly name = 'v86' as const;
  typed = '';
  destroyed = false;
  saved = 0;
  private out: (d: string) => void = () => {};
  private booted!: () => void;
  boot(onProgress: (p: { phase: 'loading' | 'booting' | 'ready' | 'failed'; progress: number; message: string }) => void) {
    onProgress({ phase: 'booting', progress: 0.5, message: 'booting' });
    return new Promise<{ restored: boolean; ms: number }>((resolve) => {
      this.booted = () => {
        onProgress({ phase: 'ready', progress: 1, message: 'ready' });
        resolve({ restored: false, ms: 1 });
      };
    });
  }
  finishBoot = () => this.booted();
  write = (d: string) => void (this.typed += d);
  onOutput = (cb: (d: string) => void) => void (this.out = cb);
  print = (d: string) => this.out(d);
  resize() {}
  save = async () => ({ bytes: 2 ** 20 * ++this.saved, ms: 500 });
  /** Uploads of the room's VM state; `syncFails` makes the next ones throw it. */
  synced = 0;
  syncFails: Error | null = null;
  syncRoomState = async () => {
    if (this.syncFails) throw this.syncFails;
    return { bytes: 4096 * ++this.synced, ms: 100 };
  };
  /** Synchronous captures of the VM as the page closes (finalState.ts). */
  captured = 0;
  captureRoomStateNow = () => ({ state: new ArrayBuffer(16 * ++this.captured), pages: [], guestVersion: '0123456789abcdef', diskVersion: null, overlayId: null, overlayGeneration: 0 });
  destroy = async () => void (this.destroyed = true);
}

/** Timers the test fires by hand. */
export function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 0;
  const timers: Timers = {
    setTimeout: (fn) => (pending.set(++next, fn), next),
    clearTimeout: (t) => void pending.delete(t as number),
  };
  return { timers, fireAll: () => [...pending.entries()].forEach(([k, fn]) => (pending.delete(k), fn())), count: () => pending.size };
}

/** A window-like event target that counts its listeners. */
export function resizeTarget() {
  const listeners = new Set<EventListenerOrEventListenerObject>();
  return {
    addEventListener: (_: string, l: EventListenerOrEventListenerObject) => void listeners.add(l),
    removeEventListener: (_: string, l: EventListenerOrEventListenerObject) => void listeners.delete(l),
    fire: () => listeners.forEach((l) => (typeof l === 'function' ? l(new Event('resize')) : l.handleEvent(new Event('resize')))),
    count: () => listeners.size,
  };
}

/** A RoomSession on fakes: the connection, views and engines it made, timers fired by hand. */
export function roomSession(extra: Partial<RoomSessionDeps> = {}) {
  const c = fakeConnection();
  const views = new Map<string, FakeView>();
  const engines: FakeEngine[] = [];
  const requests: EngineRequest[] = [];
  const t = manualTimers();
  const win = resizeTarget();
  let resets = 0;
  const session = new RoomSession({
    connect: c.connect,
    makeView: (tab, h) => {
      const v = new FakeView(tab, h);
      views.set(tab, v);
      return v;
    },
    createEngine: async (req) => {
      requests.push(req);
      const e = new FakeEngine();
      engines.push(e);
      return e;
    },
    resetDisks: async () => void resets++,
    resizeTarget: win,
    timers: t.timers,
    ...extra,
  });
  return { c, session, views, engines, requests, t, win, resets: () => resets };
}
