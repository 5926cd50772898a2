import type { V86 } from 'v86';
import { ShellIntegration } from '../../shared/ShellIntegration';

const MAX_BOOT_TAIL_CHARS = 4096;
/** Output is batched this long before it reaches listeners: one socket frame per burst, not per byte. */
const OUTPUT_FLUSH_MS = 4;

/**
 * The guest's serial lines as the page uses them: COM1 is the user's terminal (output batched to
 * listeners; while booting, watched for the first shell prompt and for a kernel panic), COM2 the
 * line to the guest's clock setter.
 */
export class SerialConsole {
  /** When the guest last wrote to the terminal (performance.now()): snapshots wait for a quiet VM. */
  lastOutputAt = 0;
  private emulator: V86 | null = null;
  private listeners: ((data: string) => void)[] = [];
  private decoder = new TextDecoder();
  private encoder = new TextEncoder();
  private bytes: number[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private shell = new ShellIntegration();
  /** Set while a boot waits for its prompt. */
  private boot: { prompt: () => void; panic: (reason: string) => void; tail: string } | null = null;

  onOutput(cb: (data: string) => void): void {
    this.listeners.push(cb);
  }

  /** Listens to a new emulator's terminal (the previous one is gone). */
  attach(emulator: V86): void {
    this.emulator = emulator;
    emulator.add_listener('serial0-output-byte', (b) => this.push(b));
  }

  /**
   * Resolves at the first shell prompt (OSC 133;A). A kernel that cannot go on (e.g. a corrupt
   * root disk it cannot mount) says so on the console: `onPanic` hears it at once, so the boot
   * fails now rather than at its timeout.
   */
  untilPrompt(onPanic: (reason: string) => void): Promise<void> {
    return new Promise((prompt) => (this.boot = { prompt, panic: onPanic, tail: '' }));
  }

  write(data: string): void {
    this.emulator?.serial_send_bytes(0, this.encoder.encode(data));
  }

  /**
   * A restored guest's clock runs from when its snapshot was taken (Linux reads the RTC only at
   * boot). The guest's init waits on COM2 for a line of epoch seconds and sets its clock to it.
   */
  syncGuestClock(): void {
    this.emulator?.serial_send_bytes(1, this.encoder.encode(`${(Date.now() / 1000).toFixed(3)}\n`));
  }

  /** The emulator stopped: forget its boot (a new one starts with a fresh shell parser). */
  detach(): void {
    this.emulator = null;
    this.boot = null;
    this.shell = new ShellIntegration();
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.listeners = [];
    this.detach();
  }

  private push(b: number): void {
    this.lastOutputAt = performance.now();
    this.bytes.push(b);
    this.flushTimer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const text = this.decoder.decode(new Uint8Array(this.bytes), { stream: true });
    this.bytes = [];
    if (!text) return;
    const boot = this.boot;
    if (boot) {
      boot.tail = (boot.tail + text).slice(-MAX_BOOT_TAIL_CHARS);
      const panic = /Kernel panic - not syncing: ([^\r\n]*)\r?\n/.exec(boot.tail);
      if (panic) boot.panic(panic[1].trim());
      for (const ev of this.shell.push(text)) {
        if (ev.kind === 'prompt') {
          this.boot = null;
          boot.prompt();
          break;
        }
      }
    }
    for (const l of this.listeners) l(text);
  }
}
