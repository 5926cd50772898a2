import type { ScreenInputEvent } from '../../shared/protocol';
import type { BootProgress } from './Engine';
import type { ScreenVm, TailscaleControl } from './ScreenVm';
import { TailscaleLink } from './tailscale';
import { createCheerpXLinux } from './cheerpxLinux';

type CX = typeof import('@leaningtech/cheerpx');
type Linux = InstanceType<CX['Linux']>;

/** WebVM's public Alpine image (i3 desktop on Xorg): the /alpine disk with CheerpX. */
export const DEFAULT_CHEERPX_ALPINE_DISK = 'wss://disks.webvm.io/alpine_20240307_i3_slimmed_rr2.ext2';
/** Many X11 programs lay out badly below this; the canvas scales the display down to fit. */
export const KMS_WIDTH = 1024;
export const KMS_HEIGHT = 768;
/** The virtual terminal CheerpX activates when the KMS display takes over (Xorg's). */
const GRAPHICAL_VT = 7;

/** CheerpX API calls newer than its published .d.ts (documented at cheerpx.io). */
interface LinuxWithKms {
  setKmsCanvas(canvas: HTMLCanvasElement, width: number, height: number): void;
  setActivateConsole(cb: (vt: number) => void): unknown;
}

/**
 * Alpine on CheerpX: /sbin/init as root (OpenRC starts Xorg and i3) with the display on a KMS
 * canvas, writes kept in an IndexedDB overlay, Tailscale through CheerpX's network interface.
 * Online only: the engine comes from the vendor's CDN.
 */
export class CheerpXAlpine implements ScreenVm {
  readonly name = 'cheerpx' as const;
  readonly canvas: HTMLCanvasElement;
  private link = new TailscaleLink();
  readonly tailscale: TailscaleControl = this.link;
  private cx: Linux | null = null;

  constructor(
    private mod: CX,
    container: HTMLElement,
    private opts: { disk: string; overlayKey: string },
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = KMS_WIDTH;
    this.canvas.height = KMS_HEIGHT;
    container.replaceChildren(this.canvas);
  }

  async boot(onProgress: (p: BootProgress) => void): Promise<void> {
    const t0 = performance.now();
    onProgress({ phase: 'loading', progress: 0.1, message: `Opening disk ${this.opts.disk}` });
    const cx = await createCheerpXLinux(this.mod, {
      disk: this.opts.disk,
      overlayKey: this.opts.overlayKey,
      link: this.link,
      onMounted: () => onProgress({ phase: 'booting', progress: 0.4, message: 'Starting Alpine (CheerpX)' }),
    });
    this.cx = cx;
    const kms = cx as unknown as LinuxWithKms;
    kms.setKmsCanvas(this.canvas, KMS_WIDTH, KMS_HEIGHT);
    const graphical = new Promise<void>((resolve) => kms.setActivateConsole((vt) => vt === GRAPHICAL_VT && resolve()));
    void cx.run('/sbin/init', [], { env: ['HOME=/root', 'TERM=linux', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], uid: 0, gid: 0 });
    await graphical;
    const ms = Math.round(performance.now() - t0);
    onProgress({ phase: 'ready', progress: 1, message: `Alpine ready in ${(ms / 1000).toFixed(1)} s (CheerpX)` });
  }

  /** CheerpX reads keyboard and mouse from DOM events on its canvas, so a guest's input is replayed there. */
  input(ev: ScreenInputEvent): void {
    const c = this.canvas;
    if (ev.kind === 'key') c.dispatchEvent(new KeyboardEvent(ev.down ? 'keydown' : 'keyup', { code: ev.code, bubbles: true }));
    else if (ev.kind === 'mouse') c.dispatchEvent(new MouseEvent('mousemove', { movementX: ev.dx, movementY: ev.dy, buttons: ev.buttons, bubbles: true }));
    else c.dispatchEvent(new WheelEvent('wheel', { deltaY: ev.dy * 100, bubbles: true }));
  }

  async destroy(): Promise<void> {
    this.link.close();
    this.cx?.delete();
    this.cx = null;
  }
}
