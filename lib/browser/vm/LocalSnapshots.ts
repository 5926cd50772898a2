import type { CaptureGate, RunningVm } from './CaptureGate';
import type { OverlayDisk } from './OverlayDisk';
import { gzip, saveSnapshot } from './snapshotStore';

/**
 * With a disk, the VM is snapshotted once its disk and terminal have been quiet this long (and the
 * disk changed since the last snapshot): the kernel has written back what it will (≈2 s, see the
 * writeback sysctls on its command line), so the snapshot matches the overlay a reload finds.
 */
const QUIET_SNAPSHOT_MS = 4000;

/**
 * This browser's snapshots of the VM (IndexedDB, see snapshotStore): "Save VM", the automatic one
 * taken when the VM is quiet after a change, and (the server's headless host only) the boot
 * snapshot it publishes for every host.
 */
export class LocalSnapshots {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** disk.writeCount when the last snapshot was taken (-1: none yet). */
  private writes = -1;

  constructor(
    private vm: RunningVm,
    private gate: CaptureGate,
    private keys: { room: string; auto: string },
    /** Publish the cold-boot snapshot for every host (only the server's headless host may). */
    private publish?: (gz: ArrayBuffer) => Promise<void>,
  ) {}

  /** "Save VM": the running VM now, as this room's snapshot in this browser. Resolves with the stored size. */
  async save(): Promise<{ bytes: number; ms: number }> {
    if (!this.vm.emulator) throw new Error('the VM is not running');
    if (this.gate.busy) throw new Error('a snapshot is being taken already');
    const t0 = performance.now();
    return this.gate.run(async () => {
      const c = await this.capture();
      const bytes = await saveSnapshot(this.keys.room, c.state, c.tag);
      this.writes = c.writes;
      return { bytes, ms: Math.round(performance.now() - t0) };
    });
  }

  /**
   * Takes a snapshot whenever the disk changed and the VM has been quiet since. `fits`: the VM was
   * restored from this browser's own snapshot, which still matches. From the server's, the overlay
   * now holds its pages but this browser has no snapshot of them yet: one is taken when quiet.
   */
  watch(disk: OverlayDisk, fits: boolean): void {
    this.stop();
    this.writes = fits ? disk.writeCount : -1;
    this.timer = setInterval(() => {
      const now = performance.now();
      if (this.gate.busy || disk.writeCount === this.writes) return;
      if (now - disk.lastWriteAt < QUIET_SNAPSHOT_MS || now - this.vm.lastOutputAt < QUIET_SNAPSHOT_MS) return;
      void this.take(false);
    }, 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Saves the booted guest so the next boot restores it in about a second. With a disk the
   * snapshot is tagged with the overlay's state (see bootState), and only a boot that started
   * from an empty overlay may become the server's boot snapshot: its state carries the overlay's
   * pages, which must hold nothing of any room's files.
   */
  async take(diskWasEmpty: boolean): Promise<void> {
    const disk = this.vm.disk;
    if (!this.vm.emulator) return;
    if (disk?.tooBigToSnapshot) return; // too big to be worth it; boots cold
    await this.gate
      .run(async () => {
        const { state, tag, writes } = await this.capture();
        if (this.publish) {
          if (diskWasEmpty) await this.publish(await gzip(state));
        } else {
          await saveSnapshot(this.keys.auto, state, tag);
          this.writes = writes;
        }
      })
      .catch((e) => {
        console.warn('[tandem] snapshot not saved:', e);
        // Not again until the disk changes (a full storage would fail every second).
        if (disk) this.writes = disk.writeCount;
      });
  }

  /**
   * The running VM's state with the tag of the overlay it fits (flushed first, so storage holds
   * what the state's page cache expects). Throws when the overlay is too big to carry, or the VM
   * stopped meanwhile. Callers hold the gate.
   */
  private async capture(): Promise<{ state: ArrayBuffer; tag: string; writes: number }> {
    const emulator = this.vm.emulator;
    const disk = this.vm.disk;
    if (!emulator) throw new Error('the VM is not running');
    if (disk?.tooBigToSnapshot)
      throw new Error(`this VM's disk changes (${Math.round(disk.overlayBytes / 2 ** 20)} MiB) are too large to snapshot; they are kept on disk and the VM boots cold`);
    await disk?.flush();
    if (this.vm.emulator !== emulator) throw new Error('the VM stopped while saving');
    // Read right before the state is captured: no guest code runs in between.
    const tag = disk?.stateTag ?? '';
    const writes = disk?.writeCount ?? 0;
    return { state: await emulator.save_state(), tag, writes };
  }
}
