import type { V86 } from 'v86';
import type { OverlayDisk } from './OverlayDisk';

/**
 * One capture of the VM at a time: a local snapshot, "Save VM" and a room-state upload each flush
 * the overlay and save the emulator's state, and two at once would interleave their flushes.
 */
export class CaptureGate {
  busy = false;

  /** Runs `capture` once no other capture is running (waits for one in progress). */
  async run<T>(capture: () => Promise<T>): Promise<T> {
    while (this.busy) await new Promise((r) => setTimeout(r, 50));
    this.busy = true;
    try {
      return await capture();
    } finally {
      this.busy = false;
    }
  }
}

/** What the parts that capture the VM (LocalSnapshots, RoomStateSync) see of the engine. */
export interface RunningVm {
  readonly emulator: V86 | null;
  readonly disk: OverlayDisk | null;
  /** When the guest last wrote to the terminal (performance.now()). */
  readonly lastOutputAt: number;
}
