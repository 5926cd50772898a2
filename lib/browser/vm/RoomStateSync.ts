import type { V86 } from 'v86';
import type { GuestManifest } from '../../shared/GuestManifest';
import type { RoomStateInfo } from '../../shared/roomState';
import type { CaptureGate, RunningVm } from './CaptureGate';
import type { OverlayDisk } from './OverlayDisk';
import type { OverlayMeta } from './OverlayStore';
import type { RawRoomStateCapture, RoomStateClient } from './RoomStateClient';
import { forgetFinalCapture, isOwnFinalCapture } from './finalCaptureMarks';
import { gunzip, gzip } from './snapshotStore';

/** The room's state goes to the server once the VM has been quiet (no output, no disk writes) this long after a change. */
const ROOM_STATE_QUIET_MS = 2500;

/** The running VM as it is at one instant: its v86 state (without disk pages) and the overlay's pages beside it. */
export interface VmCapture {
  state: ArrayBuffer;
  pages: [number, Uint8Array, number][];
  /** disk.writeCount and performance.now() when it was taken: what "unchanged since" compares with. */
  writes: number;
  at: number;
  meta: OverlayMeta | null;
}

/**
 * Captures the current state of the VM for the room: the overlay is flushed first (storage then
 * holds what the state's page cache expects), then v86 saves its state with the disk's pages
 * handed out beside it (content-addressed on upload). Throws when the overlay is too big to carry
 * or the VM stopped meanwhile. Callers hold the CaptureGate.
 */
export async function captureVm(emulator: V86, disk: OverlayDisk | null, isRunning: () => boolean): Promise<VmCapture> {
  if (disk?.tooBigToSnapshot)
    throw new Error(`the disk changes (${Math.round(disk.overlayBytes / 2 ** 20)} MiB) are too large to save on the server`);
  await disk?.flush();
  if (!isRunning()) throw new Error('the VM stopped while saving');
  // Read right before the state is captured: no guest code runs in between.
  const writes = disk?.writeCount ?? 0;
  const at = performance.now();
  const meta = disk?.loadedMeta ?? null;
  const { result: state, pages } = disk ? await disk.exportState(() => emulator.save_state()) : { result: await emulator.save_state(), pages: [] };
  return { state, pages, writes, at, meta };
}

/**
 * The room's VM state on the server (issue 11): the newest is restored when this browser does not
 * have it; the running VM's is uploaded when quiet after a change, and on demand (Save VM, giving
 * the VM away, leaving).
 */
export class RoomStateSync {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** disk.writeCount and the time (performance.now()) the server's copy of the state matches. */
  private writes = -1;
  private syncedAt = -Infinity;
  private upload: Promise<{ bytes: number; ms: number } | null> | null = null;
  /** Uploads are refused for good (no longer the host, another version): stop trying. */
  private off = false;

  constructor(
    private client: RoomStateClient,
    private vm: RunningVm,
    private gate: CaptureGate,
    private manifest: GuestManifest,
    private notice?: (text: string) => void,
  ) {}

  /**
   * The room's newest state when this browser does not have it: with a disk, when the state was
   * not made from this browser's own overlay (another browser hosted since); without one, always.
   * Null: nothing newer, or the server cannot say. Throws when the download fails.
   */
  async newer(disk: OverlayDisk | null): Promise<RoomStateInfo | null> {
    let info: RoomStateInfo | null;
    try {
      info = await this.client.latest();
    } catch {
      return null; // the server cannot say: boot from what this browser has
    }
    if (!info || info.manifest.guestVersion !== this.manifest.version) return null;
    // This browser's own lineage is at least as new, unless the state is the final one this
    // browser's page sent as it closed: that one is newer than any local copy (finalState.ts).
    if (disk && disk.loadedMeta?.id === info.manifest.overlayId && !isOwnFinalCapture(this.client.room, info)) return null;
    return info;
  }

  /** The state `info` names: the v86 state (unzipped) and the overlay pages it expects. */
  async download(info: RoomStateInfo): Promise<{ state: ArrayBuffer; pages: [number, Uint8Array, number][] }> {
    const { vmGz, pages } = await this.client.download(info);
    const state = await gunzip(vmGz);
    // The restore has what this browser's closing page handed on: its mark has served.
    forgetFinalCapture(this.client.room, info);
    return { state, pages };
  }

  /** Uploads the state once the VM is quiet after a change (output or disk writes). */
  watch(restoredFromRoom: boolean): void {
    this.stop();
    if (restoredFromRoom) {
      // The server holds this very state; the prompt the restore asked for is not a change.
      this.writes = this.vm.disk?.writeCount ?? 0;
      this.syncedAt = performance.now() + 1000;
    }
    this.timer = setInterval(() => {
      const now = performance.now();
      const disk = this.vm.disk;
      if (this.off || this.upload || this.gate.busy || !this.vm.emulator) return;
      if ((disk?.writeCount ?? 0) === this.writes && this.vm.lastOutputAt <= this.syncedAt) return;
      if (now - (disk?.lastWriteAt ?? 0) < ROOM_STATE_QUIET_MS || now - this.vm.lastOutputAt < ROOM_STATE_QUIET_MS) return;
      void this.sync().catch((e) => console.warn('[tandem] room state not uploaded:', e));
    }, 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The running VM's state now (see captureVm), or null when no VM runs. */
  private async capture(): Promise<VmCapture | null> {
    const emulator = this.vm.emulator;
    if (!emulator) return null;
    return this.gate.run(() => captureVm(emulator, this.vm.disk, () => this.vm.emulator === emulator));
  }

  /**
   * The running VM's state for the room, captured synchronously with the disk pages beside it: a
   * closing page cannot await (lib/browser/room/finalState.ts). v86's inner save_state is
   * synchronous (its async wrapper only wraps it); the overlay's pages are all in memory while it
   * is small enough to snapshot (OverlayDisk.tooBigToSnapshot). Null when there is nothing to send: no VM, uploads refused, or
   * disk changes too large to save on the server.
   */
  captureNow(): RawRoomStateCapture | null {
    const inner = (this.vm.emulator as unknown as { v86?: { save_state(): ArrayBuffer } } | null)?.v86;
    const disk = this.vm.disk;
    if (!inner || this.off || disk?.tooBigToSnapshot) return null;
    try {
      const { result: state, pages } = disk ? disk.exportStateSync(() => inner.save_state()) : { result: inner.save_state(), pages: [] };
      return { state, pages, ...this.versions(disk?.loadedMeta ?? null) };
    } catch (e) {
      console.warn('[tandem] the final room state could not be captured:', e);
      return null;
    }
  }

  /** What a state is for: the guest, the disk image and the overlay (generation) it was captured with. */
  private versions(meta: VmCapture['meta']) {
    return { guestVersion: this.manifest.version, diskVersion: this.manifest.disk?.version ?? null, overlayId: meta?.id ?? null, overlayGeneration: meta?.generation ?? 0 };
  }

  /**
   * Uploads the running VM's state to the server now: resolves with the bytes sent (only what the
   * server lacked). Null when no VM runs or uploads are off.
   */
  sync(): Promise<{ bytes: number; ms: number } | null> {
    // One at a time; a request during an upload waits for it, then captures what is newer.
    const run = async () => {
      if (this.off) return null;
      const t0 = performance.now();
      const cap = await this.capture();
      if (!cap) return null;
      try {
        const r = await this.client.upload({
          vmGz: await gzip(cap.state),
          pages: cap.pages,
          ...this.versions(cap.meta),
        });
        return { bytes: r.sentBytes, ms: Math.round(performance.now() - t0) };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'FORBIDDEN' || code === 'STATE_VERSION') this.off = true;
        if (code === 'QUOTA_EXCEEDED' || code === 'TOO_LARGE') this.notice?.(`The VM's state is not saved on the server: ${(e as Error).message}`);
        throw e;
      } finally {
        // Not again until something changes (a refused upload would fail every second).
        this.writes = cap.writes;
        this.syncedAt = cap.at;
      }
    };
    const p = (this.upload ?? Promise.resolve(null)).catch(() => null).then(run);
    this.upload = p;
    void p
      .finally(() => {
        if (this.upload === p) this.upload = null;
      })
      .catch(() => {});
    return p;
  }
}
