import type { V86 } from 'v86';
import type { ScreenInputEvent } from '../../shared/protocol';
import type { BootProgress } from './Engine';
import type { GuestManifest } from '../../shared/GuestManifest';
import type { ScreenVm } from './ScreenVm';
import { scancodes } from './scancodes';
import { V86Engine } from './V86Engine';

/** What v86's event bus takes for the PS/2 mouse (not in its published types). */
interface V86Bus {
  send(event: 'mouse-delta', v: [number, number]): void;
  send(event: 'mouse-click', v: [boolean, boolean, boolean]): void;
  send(event: 'mouse-wheel', v: [number, number]): void;
}

/**
 * The bundled guest in v86, shown as its VGA screen: v86 draws the VGA console (text mode drawn
 * with the VGA font) into our canvas. The guest keeps a login shell on tty1 for it; boot waits for
 * the serial console's prompt, which comes up at the same time.
 */
export class V86Screen implements ScreenVm {
  readonly name = 'v86' as const;
  readonly tailscale = null;
  readonly canvas: HTMLCanvasElement;
  private engine: V86Engine;
  private emulator: V86 | null = null;
  private buttons = 0;

  constructor(manifest: GuestManifest, container: HTMLElement) {
    // v86 draws text mode into the first div and graphics (and text, with use_graphical_text) into the canvas.
    container.replaceChildren(document.createElement('div'), document.createElement('canvas'));
    (container.firstChild as HTMLElement).style.display = 'none';
    this.canvas = container.querySelector('canvas')!;
    this.engine = new V86Engine(manifest, { screen: container, graphicalText: true, onEmulator: (e) => (this.emulator = e) });
  }

  async boot(onProgress: (p: BootProgress) => void): Promise<void> {
    await this.engine.boot(onProgress);
  }

  /** The VGA text screen as lines (tests read it; the canvas is what people see). */
  textScreen(): string[] {
    const a = (this.emulator as unknown as { screen_adapter?: { get_text_screen?: () => string[] } } | null)?.screen_adapter;
    return a?.get_text_screen?.() ?? [];
  }

  input(ev: ScreenInputEvent): void {
    const e = this.emulator;
    if (!e) return;
    const bus = (e as unknown as { bus: V86Bus }).bus;
    switch (ev.kind) {
      case 'key': {
        const codes = scancodes(ev.code, ev.down);
        if (codes) e.keyboard_send_scancodes(codes);
        return;
      }
      case 'mouse': {
        // PS/2 counts y upwards; screens count it downwards.
        if (ev.dx || ev.dy) bus.send('mouse-delta', [ev.dx, -ev.dy]);
        if (ev.buttons !== this.buttons) {
          this.buttons = ev.buttons;
          bus.send('mouse-click', [!!(ev.buttons & 1), !!(ev.buttons & 4), !!(ev.buttons & 2)]);
        }
        return;
      }
      case 'wheel':
        bus.send('mouse-wheel', [Math.sign(ev.dy), 0]);
        return;
    }
  }

  destroy(): Promise<void> {
    this.emulator = null;
    return this.engine.destroy();
  }
}
