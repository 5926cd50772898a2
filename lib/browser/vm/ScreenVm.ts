import type { ScreenInputEvent } from '../../shared/protocol';
import type { BootProgress } from './Engine';
import type { TailscaleStatus } from './tailscale';

/** A VM whose graphical screen is the product (/alpine): v86's VGA, or CheerpX's KMS display. */
export interface ScreenVm {
  readonly name: 'v86' | 'cheerpx';
  /** Resolves once the screen shows something usable (a shell prompt, or the graphical console). */
  boot(onProgress: (p: BootProgress) => void): Promise<void>;
  /** The canvas the VM draws into: frames for guests are taken from it. */
  readonly canvas: HTMLCanvasElement;
  /** Keyboard and mouse, from the host's own page or from a guest. */
  input(ev: ScreenInputEvent): void;
  /** Tailscale exists only with CheerpX; null means this engine cannot do it. */
  readonly tailscale: TailscaleControl | null;
  destroy(): Promise<void>;
}

export interface TailscaleControl {
  /** Starts logging in; the login URL arrives through onChange. */
  connect(): Promise<void>;
  onChange(cb: (s: TailscaleStatus) => void): void;
}
