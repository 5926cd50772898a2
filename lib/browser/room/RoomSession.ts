import { DEFAULT_TAB, MAX_OUTPUT_CHUNK_BYTES, type ClientToServerEvents, type Seat, type RoomState, type TabInfo } from '../../shared/protocol';
import type { BootProgress, Engine } from '../vm/Engine';
import type { TailscaleControl } from '../vm/ScreenVm';
import { isTerminalReply } from '../client/terminalReplies';
import { INITIAL_CORE, SessionCore, type Connect, type CoreState, type Timers } from './SessionCore';
import type { TermView, TermViewHandlers, ViewOptions } from './TermView';
import { DEFAULT_FONT_PX } from './viewPrefs';
import type { FinalStateHandoff } from './finalState';

/** Each terminal on the host is its own VM (128 MiB); more than a few would starve the browser. */
export { MAX_HOST_TABS } from '../../shared/limits';
import { MAX_HOST_TABS } from '../../shared/limits';
/** Output frames kept for the server while the host's connection is down (each ≤ 64 KiB). */
export const MAX_BUFFERED_FRAMES_OFFLINE = 256;

export interface RoomSnapshot extends CoreState {
  /** Command blocks per tab (Previous/Next command need at least one). */
  commands: Record<string, number>;
  /** The engine asked to offer "Reset VM" with its notice (e.g. browser storage is full). */
  offerReset: boolean;
  activeTab: string;
  /** The main terminal's engine (host): which actions apply (Save VM on v86, Tailscale on CheerpX). */
  mainVm: { name: Engine['name']; tailscale: TailscaleControl | null } | null;
}

export const INITIAL_ROOM: RoomSnapshot = { ...INITIAL_CORE, commands: {}, offerReset: false, activeTab: DEFAULT_TAB, mainVm: null };

export interface EngineRequest {
  view: TermView;
  isMain: boolean;
  /** Ignore saved VMs and disk changes' snapshots: boot from scratch (after "Reset VM"). */
  coldBoot: boolean;
  notice(text: string, opts?: { reset?: boolean }): void;
  /** This page's connection id: the server hands the VM's network token to the host's connection alone. */
  sid?: string;
  /** The key this page's uploads of the room's VM state carry while it hosts (from its room:state). */
  hostKey(): string | undefined;
}

export interface RoomSessionDeps {
  connect: Connect;
  makeView(tab: string, h: TermViewHandlers): TermView;
  /** Creates (not boots) the VM engine behind a view; the session boots it. */
  createEngine(req: EngineRequest): Promise<Engine>;
  /** Forgets this browser's disk overlays and saved VMs of the room. */
  resetDisks(): Promise<void>;
  /** Where window resizes are heard (the host refits its terminal); removed on dispose. */
  resizeTarget?: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  /** Calls `fn` when the page is hidden or left (the host saves the room's VM on the server); returns its removal. */
  onPageHidden?(fn: () => void): () => void;
  /** Closing the page while hosting: the VM's last state goes to the server after the page is gone. */
  finalState?: FinalStateHandoff;
  timers?: Timers;
}

/** Output kept for resending after a reconnect (the relay's per-frame cap is 64 KiB). */
export const MAX_RESEND_CHARS = 1024 * 1024;

/**
 * The terminal room's controller, free of React: the connection, a view per tab, and on the host
 * a VM per tab whose output it relays; on guests the relayed stream. Components render its
 * snapshot (subscribe/getSnapshot) and call its actions.
 */

export class RoomSession extends SessionCore<RoomSnapshot> {
  private readonly views = new Map<string, TermView>();
  /** Host: frames sent lately per tab, for resending after a reconnect (term:ack). */
  private readonly sent = new Map<string, { frames: { seq: number; data: string }[]; chars: number }>();
  /** Tabs whose next boot ignores snapshots ("Reset VM"). */
  private readonly coldTabs = new Set<string>();
  private canType = true;
  private viewOpts: ViewOptions = { fontPx: DEFAULT_FONT_PX, follow: false, screenReader: false };
  private readonly onWindowResize = () => this.fitActive();
  /** Handover: the key my uploads of the room's VM state carry, and who hosted at the last state. */
  private hostKey: string | undefined;
  private hostName: string | null | undefined;
  private readonly offPageHidden: () => void;
  private readonly offLeave: () => void;

  constructor(private readonly deps: RoomSessionDeps) {
    super(INITIAL_ROOM, deps.connect, deps.timers);
    const s = this.socket;
    s.on('term:snapshot', (snap) => this.seat === 'guest' && this.views.get(snap.tab)?.snapshot(snap));
    s.on('term:out', (f) => this.seat === 'guest' && this.views.get(f.tab)?.out(f));
    s.on('term:resize', (r) => this.seat === 'guest' && this.views.get(r.tab)?.resize(r.cols, r.rows));
    s.on('term:in', (m) => this.seat === 'host' && this.views.get(m.tab)?.engine?.write(m.data));
    // The server came back (or we did): resend, in order, what it never got.
    s.on('term:ack', (a) => {
      if (this.seat !== 'host') return;
      for (const f of this.sent.get(a.tab)?.frames ?? []) if (f.seq > a.hostSeq) s.emit('term:out', { tab: a.tab, ...f });
    });
    // Someone asked for the VM (the server's headless host yields to a person): save it, then give it.
    s.on('host:yield', (y) => void this.give(y.peer));
    deps.resizeTarget?.addEventListener('resize', this.onWindowResize);
    // Leaving (or hiding) the page while hosting: the room's VM goes to the server as it is now.
    this.offPageHidden = deps.onPageHidden?.(() => this.seat === 'host' && void this.syncRoomState()) ?? (() => {});
    this.offLeave = deps.finalState?.onLeave(() => this.sendFinalState()) ?? (() => {});
    this.view(DEFAULT_TAB);
  }

  private get active(): string {
    return this.getSnapshot().activeTab;
  }

  /** The view of `tab`, made on first use. */
  private view(tab: string): TermView {
    let v = this.views.get(tab);
    if (!v) {
      v = this.deps.makeView(tab, {
        onCommands: (t, n) => this.set((st) => ({ commands: { ...st.commands, [t]: n } })),
        requestSync: (t) => this.socket.emit('term:sync', { tab: t }),
        onInput: (t, data) => this.input(t, data),
      });
      v.setReadOnly(!this.canType);
      v.configure(this.viewOpts);
      v.show(tab === this.active);
      this.views.set(tab, v);
    }
    return v;
  }

  private input(tab: string, data: string): void {
    // Read-only (viewer, or another holds the keyboard): nothing leaves this page.
    if (!this.canType) return;
    if (this.seat === 'host') this.views.get(tab)?.engine?.write(data);
    else if (!isTerminalReply(data)) this.socket.emit('term:in', { tab, data });
  }

  // ---- actions (what the page's controls call) ----

  show(tab: string): void {
    if (!this.views.has(tab)) return;
    this.set({ activeTab: tab });
    for (const v of this.views.values()) v.show(v.id === tab);
    this.fitActive();
  }

  /**
   * Host: fits the active terminal to its box again (window or text size changed); a new size goes
   * to the server (its mirror and the guests follow the host's cols × rows) and to the VM.
   */
  fitActive(): void {
    const v = this.views.get(this.active);
    if (this.seat !== 'host' || !v) return;
    const [cols, rows] = [v.cols(), v.rows()];
    v.fitToBox();
    if (v.cols() === cols && v.rows() === rows) return;
    v.engine?.resize(v.cols(), v.rows());
    this.sendSize(v);
  }

  jump(dir: -1 | 1): void {
    this.views.get(this.active)?.jump(dir);
  }

  /** Host: another terminal, i.e. another VM (the server adds it to every page's tab list). */
  openTab(): void {
    if (this.seat !== 'host' || this.views.size >= MAX_HOST_TABS) return;
    this.socket.emit('tab:open', { tab: `t${Date.now().toString(36)}`, title: `Terminal ${this.views.size + 1}` });
  }

  closeTab(tab: string): void {
    if (this.seat === 'host' && tab !== DEFAULT_TAB) this.socket.emit('tab:close', { tab });
  }

  /** Whether my keystrokes may leave this page (the server decides; this only stops sending). */
  setCanType(canType: boolean): void {
    this.canType = canType;
    for (const v of this.views.values()) v.setReadOnly(!canType);
  }

  /** This viewer's text size, following and screen-reader mode, for every terminal; the host refits. */
  configureViews(o: Partial<ViewOptions>): void {
    this.viewOpts = { ...this.viewOpts, ...o };
    for (const v of this.views.values()) v.configure(this.viewOpts);
    this.fitActive();
  }

  /** Keyboard control and the like (the side panel's actions). */
  emit<E extends keyof ClientToServerEvents>(event: E, ...args: Parameters<ClientToServerEvents[E]>): void {
    this.socket.emit(event, ...args);
  }

  /** "Save VM": the active terminal's VM as it is now, restored by this room's next load here (and, the main one, by the room's next host). */
  async save(): Promise<void> {
    const v = this.views.get(this.active);
    if (this.seat !== 'host' || !v?.engine?.save) return;
    try {
      const { bytes, ms } = await v.engine.save();
      const up = v.id === DEFAULT_TAB ? await this.syncRoomState() : null;
      this.flash(`Saved the VM (${(bytes / 2 ** 20).toFixed(1)} MB in ${(ms / 1000).toFixed(1)} s)${up ? ', also on the server for the room’s next host' : ''}: reloading this room in this browser restores it.`);
    } catch (err) {
      this.flash(`Save VM: ${message(err)}`);
    }
  }

  /** "Take over": run the room's VM here, from its newest state on the server (the host left, or the server's headless host runs it). */
  take(): void {
    if (this.seat === 'guest') this.socket.emit('host:take', {});
  }

  /** "Give host to …": the VM is saved on the server first, so the new host resumes it as it is. */
  async give(peer: string): Promise<void> {
    if (this.seat !== 'host') return;
    await this.syncRoomState();
    if (this.seat === 'host') this.socket.emit('host:give', { to: peer });
  }

  /** The page is closing: its VM's state, captured now, goes to the server after it (finalState.ts). */
  private sendFinalState(): void {
    const key = this.hostKey;
    if (this.seat !== 'host' || !key || !this.deps.finalState) return;
    const capture = this.views.get(DEFAULT_TAB)?.engine?.captureRoomStateNow?.();
    if (capture) this.deps.finalState.send(key, capture);
  }

  /** Uploads the main VM's state to the room on the server; a failure is said, not fatal. */
  private async syncRoomState(): Promise<{ bytes: number; ms: number } | null> {
    try {
      return (await this.views.get(DEFAULT_TAB)?.engine?.syncRoomState?.()) ?? null;
    } catch (err) {
      this.flash(`Could not save the VM on the server: ${message(err)}`);
      return null;
    }
  }

  /** "Reset VM": forget this browser's disk overlays and saved VMs of the room, boot every tab cold. */
  async reset(): Promise<void> {
    if (this.seat !== 'host') return;
    const vs = [...this.views.values()];
    await Promise.all(vs.map((v) => v.stopEngine()));
    try {
      await this.deps.resetDisks();
    } catch (err) {
      this.flash(`Reset VM: could not clear browser storage (${message(err)})`);
    }
    this.set({ engineNotice: null, offerReset: false });
    for (const v of vs) {
      this.coldTabs.add(v.id);
      v.reset();
      // Everyone's copy of the screen starts over too (RIS).
      this.emitOut(v, '\x1bc');
      void this.startEngine(v);
    }
  }

  // ---- the room's state and the host's VMs ----

  protected roomState(st: RoomState, was: Seat | null, fresh: boolean): void {
    const seat = st.seat;
    if (seat === 'host') this.hostKey = st.hostKey;
    // Handover: say who runs the VM now (not on my first state: nothing changed for me then).
    if (st.hostName !== undefined && st.hostName !== this.hostName) {
      if (st.hostName && this.hostName !== undefined) this.flash(seat === 'host' ? 'You are now hosting: the VM runs in this browser.' : `${st.hostName} is now hosting.`);
      this.hostName = st.hostName;
    }
    if (was === seat) {
      this.syncTabs(st.tabs);
      // Same seat after a reconnect: tell the server where the VMs stand again.
      if (fresh && seat === 'host' && this.status.resend()) for (const v of this.views.values()) this.sendSize(v);
      return;
    }
    if (seat === 'host') {
      // Taking a running room over (handover): the screen goes on from where the mirror had it.
      if (was !== 'guest') for (const v of this.views.values()) v.reset();
      this.sent.clear(); // frames of an earlier stint as host are not this VM's
      this.syncTabs(st.tabs);
      for (const v of this.views.values()) void this.startEngine(v);
      return;
    }
    if (was === 'host') {
      this.flash('Another browser is hosting this room now; you are watching.');
      this.set({ boot: null, mainVm: null });
      for (const v of this.views.values()) void v.stopEngine();
    }
    this.syncTabs(st.tabs);
    // The current screens come from the server's mirrors.
    if (was === 'host') for (const v of this.views.values()) this.socket.emit('term:sync', { tab: v.id });
  }

  /** Makes the views match the room's tab list; the host runs a VM per tab. */
  private syncTabs(tabs: TabInfo[]): void {
    const ids = new Set(tabs.map((t) => t.id));
    for (const [id, v] of this.views)
      if (!ids.has(id)) {
        v.dispose();
        this.views.delete(id);
      }
    for (const t of tabs) {
      const isNew = !this.views.has(t.id);
      const v = this.view(t.id);
      if (this.seat === 'host' && isNew) void this.startEngine(v);
      else if (this.seat === 'guest' && isNew && t.id !== DEFAULT_TAB) this.socket.emit('term:sync', { tab: t.id });
    }
    if (!this.views.has(this.active)) this.show(DEFAULT_TAB);
  }

  private sendSize(v: TermView): void {
    this.socket.emit('term:resize', { tab: v.id, cols: v.cols(), rows: v.rows() });
  }

  /** Starts the VM behind one terminal (host only). */
  private async startEngine(v: TermView): Promise<void> {
    if (v.engine || v.starting) return;
    // `starting` guards until the engine exists, then `engine` does: Reset VM during a boot may start anew.
    v.starting = true;
    const isMain = v.id === DEFAULT_TAB;
    // Boot status is the main terminal's: the command queue waits on it.
    const report = (p: BootProgress, force: boolean) => {
      if (isMain) this.reportBoot(p, force);
    };
    v.fitToBox();
    this.sendSize(v);
    let e: Engine;
    try {
      e = await this.deps.createEngine({
        view: v,
        isMain,
        coldBoot: this.coldTabs.delete(v.id),
        sid: this.socket.id,
        hostKey: () => this.hostKey,
        notice: (text, o) => this.set((s) => ({ engineNotice: text, offerReset: s.offerReset || !!o?.reset })),
      });
    } catch (err) {
      v.starting = false;
      return report({ phase: 'failed', progress: 1, message: message(err) }, true);
    }
    v.starting = false;
    if (this.disposed || this.seat !== 'host' || this.views.get(v.id) !== v) return void e.destroy();
    v.engine = e;
    if (isMain) this.set({ mainVm: { name: e.name, tailscale: (e as { tailscale?: TailscaleControl }).tailscale ?? null } });
    e.onOutput((data) => this.relay(v, data));
    try {
      await e.boot((p) => report(p, p.phase !== 'booting'));
    } catch (err) {
      if (v.engine !== e) return; // stopped (e.g. by Reset VM) while booting
      report({ phase: 'failed', progress: 1, message: message(err) }, true);
    }
  }

  /** Host: the VM's output on this page and, in frames, to the server for the guests. */
  private relay(v: TermView, data: string): void {
    v.write(data);
    // While disconnected Socket.IO buffers emits for the reconnect; past a cap we drop them
    // rather than grow without bound (guests then resync from the mirror).
    const buffered = (this.socket as unknown as { sendBuffer?: unknown[] }).sendBuffer ?? [];
    if (!this.socket.connected && buffered.length > MAX_BUFFERED_FRAMES_OFFLINE) return;
    for (let i = 0; i < data.length; i += MAX_OUTPUT_CHUNK_BYTES) this.emitOut(v, data.slice(i, i + MAX_OUTPUT_CHUNK_BYTES));
  }

  /** Numbers one output frame, keeps it (a server that dies may never have relayed it) and sends it. */
  private emitOut(v: TermView, data: string): void {
    const f = { seq: ++v.hostSeq, data };
    let r = this.sent.get(v.id);
    if (!r) this.sent.set(v.id, (r = { frames: [], chars: 0 }));
    r.frames.push(f);
    r.chars += data.length;
    while (r.chars > MAX_RESEND_CHARS && r.frames.length > 1) r.chars -= r.frames.shift()!.data.length;
    this.socket.emit('term:out', { tab: v.id, ...f });
  }

  /** Guest: where each terminal stands, sent at every (re)connect so the server resumes from there. */
  protected override resumePoint(): Record<string, number> | undefined {
    if (this.seat !== 'guest') return undefined;
    const at: Record<string, number> = {};
    for (const [id, v] of this.views) {
      const seq = v.lastSeq?.();
      if (seq !== null && seq !== undefined) at[id] = seq;
    }
    return at;
  }

  dispose(): void {
    // Left without the page closing (an in-app link): the VM's last state goes to the server all the same.
    this.sendFinalState();
    super.dispose();
    this.deps.resizeTarget?.removeEventListener('resize', this.onWindowResize);
    this.offPageHidden();
    this.offLeave();
    for (const v of this.views.values()) v.dispose();
    this.views.clear();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
