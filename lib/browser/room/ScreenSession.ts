import type { GuestManifest } from '../../shared/GuestManifest';
import type { ProtocolErrorPayload, Seat, RoomState, ScreenFrame, ScreenInputEvent } from '../../shared/protocol';
import type { ScreenVm, TailscaleControl } from '../vm/ScreenVm';
import type { EngineChoice } from '../vm/createEngine';
import { INITIAL_CORE, SessionCore, type Connect, type CoreState, type Timers } from './SessionCore';

export interface ScreenSnapshot extends CoreState {
  vm: { name: ScreenVm['name']; tailscale: TailscaleControl | null } | null;
  /** Guest: my keyboard and mouse do not reach the VM (my role, or the server refused). */
  readOnly: boolean;
}

export const INITIAL_SCREEN: ScreenSnapshot = { ...INITIAL_CORE, vm: null, readOnly: false };

export interface ScreenSessionDeps {
  connect: Connect;
  /** Host: creates the VM in the page (its canvas inside the page's screen box). */
  createVm(choose: (manifest: GuestManifest & { engineChoice: EngineChoice }) => EngineChoice, notice: (text: string) => void): Promise<ScreenVm>;
  /** Host: streams the VM's canvas as frames while anyone watches. */
  makePump(canvas: HTMLCanvasElement, send: (f: ScreenFrame) => void): { setActive(on: boolean): void; resend(): void; stop(): void };
  /** Listens to keyboard and mouse on a canvas; returns the removal. */
  attachInput(canvas: HTMLCanvasElement, send: (events: ScreenInputEvent[]) => void): () => void;
  /** Guest: where the host's frames are drawn. */
  guestCanvas(): HTMLCanvasElement | null;
  /** Guest: draws the newest frame (an older one still decoding is dropped). */
  drawFrame(f: ScreenFrame): void;
  timers?: Timers;
}

/**
 * The screen room's controller (/alpine), free of React: the host runs the VM and streams frames
 * of its screen; guests draw the frames and send keyboard and mouse unless they may not type.
 */
export class ScreenSession extends SessionCore<ScreenSnapshot> {
  private vm: ScreenVm | null = null;
  private pump: ReturnType<ScreenSessionDeps['makePump']> | null = null;
  private detachInput: (() => void) | null = null;
  private starting = false;
  private watchers = 0;
  /** My role may type (the server's `me`; open rooms: everyone). */
  private canType = true;
  /** The server refused this guest's input: stop sending until the room's state changes. */
  private refused = false;

  constructor(private readonly deps: ScreenSessionDeps & { engine?: EngineChoice }) {
    super(INITIAL_SCREEN, deps.connect, deps.timers);
    this.socket.on('screen:frame', (f) => this.seat === 'guest' && deps.drawFrame(f));
    this.socket.on('screen:input', (m) => {
      if (this.seat === 'host' && this.vm) for (const e of m.events) this.vm.input(e);
    });
  }

  protected roomState(st: RoomState, was: Seat | null, fresh: boolean): void {
    this.watchers = st.guests;
    if (st.me) this.canType = st.me.canType;
    this.refused = false;
    this.set({ readOnly: !this.canType });
    if (was === st.seat) {
      if (st.seat !== 'host') return;
      this.pump?.setActive(this.watchers > 0);
      // Same seat after a reconnect: the server needs the screen and status again.
      if (fresh) {
        if (this.watchers > 0) this.pump?.resend();
        this.status.resend();
      }
      return;
    }
    if (st.seat === 'host') {
      this.detachInput?.();
      this.detachInput = null;
      void this.startVm();
      return;
    }
    if (was === 'host') {
      this.flash('Another browser is hosting this room now; you are watching.');
      void this.stopVm();
    }
    const c = this.deps.guestCanvas();
    if (c && !this.detachInput)
      this.detachInput = this.deps.attachInput(c, (events) => this.canType && !this.refused && this.socket.emit('screen:input', { events }));
  }

  protected onRoomError(e: ProtocolErrorPayload): void {
    if (e.event === 'screen:input' && e.code === 'FORBIDDEN') {
      this.refused = true;
      this.set({ readOnly: true });
    } else if (e.event === 'screen:input' && e.code === 'NO_HOST') return; // the banner says so already
    else super.onRoomError(e);
  }

  private async startVm(): Promise<void> {
    if (this.vm || this.starting) return;
    this.starting = true;
    try {
      const v = await this.deps.createVm((m) => this.deps.engine ?? m.engineChoice, (engineNotice) => this.set({ engineNotice }));
      if (this.disposed || this.seat !== 'host') return void v.destroy();
      this.vm = v;
      this.set({ vm: { name: v.name, tailscale: v.tailscale } });
      // CheerpX reads its own canvas's events; v86's keyboard and mouse we feed ourselves.
      if (v.name === 'v86') this.detachInput = this.deps.attachInput(v.canvas, (evs) => evs.forEach((e) => v.input(e)));
      else v.canvas.tabIndex = 0;
      this.pump = this.deps.makePump(v.canvas, (f) => this.socket.connected && this.socket.emit('screen:frame', f));
      this.pump.setActive(this.watchers > 0);
      await v.boot((p) => this.reportBoot(p, p.phase !== 'booting'));
      v.canvas.focus();
    } catch (err) {
      this.reportBoot({ phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) }, true);
    } finally {
      this.starting = false;
    }
  }

  private async stopVm(): Promise<void> {
    this.pump?.stop();
    this.pump = null;
    this.detachInput?.();
    this.detachInput = null;
    const v = this.vm;
    this.vm = null;
    this.set({ vm: null, boot: null });
    await v?.destroy();
  }

  dispose(): void {
    void this.stopVm();
    super.dispose();
  }
}
