import type { V86 } from 'v86';
import type { BootProgress, Engine } from './Engine';
import type { GuestManifest } from '../../shared/GuestManifest';
import { v86Options } from '../../shared/v86Options';
import { deleteSnapshot } from './snapshotStore';
import { OverlayDisk } from './OverlayDisk';
import { LocalSnapshots } from './LocalSnapshots';
import { httpRangeReader } from './httpRangeReader';
import { OverlayIdbStore } from './OverlayIdbStore';
import type { RawRoomStateCapture, RoomStateClient } from './RoomStateClient';
import { RoomStateSync } from './RoomStateSync';
import { SerialConsole } from './SerialConsole';
import { CaptureGate, type RunningVm } from './CaptureGate';
import { chooseBootState, fetchTrusted, snapshotKeys, type FoundState, type StateSource, type TrustedFetch } from './bootState';
import { loadV86, notAV86State, preloadV86, v86WasmFn } from './v86Lib';
import { bootMark } from './bootMarks';

export type { GuestManifest };

/** A cold boot is expected to take about this long; the bar moves against it until the prompt. */
const EXPECTED_BOOT_MS = 8000;
/** Give up on a boot that shows no prompt in this time: the page says so instead of spinning. */
const BOOT_TIMEOUT_MS = 120_000;
/** A restored VM answers within seconds; past this the snapshot is treated as bad and we boot cold. */
const RESTORE_TIMEOUT_MS = 20_000;
/** The room's saved VM (a handover) is worth waiting longer for on a busy machine: giving up loses its memory. */
const ROOM_RESTORE_TIMEOUT_MS = 60_000;
/** How long a boot waits for another tab of this browser to let go of the same disk overlay. */
const DISK_LOCK_WAIT_MS = 15_000;
/** Loading the engine files and the saved state (before the guest runs) gives up after this. */
const LOAD_TIMEOUT_MS = 60_000;

/**
 * The v86 VM of one room tab: its disk (a copy-on-write overlay, OverlayDisk), which state it
 * starts from (bootState), its serial lines (SerialConsole), this browser's snapshots of it, and
 * the room's state on the server (RoomStateSync).
 */
export class V86Engine implements Engine {
  readonly name = 'v86' as const;
  private emulator: V86 | null = null;
  private serial = new SerialConsole();
  private gate = new CaptureGate();
  private local: LocalSnapshots;
  private room: RoomStateSync | null;
  private keys: { room: string; auto: string };

  constructor(
    private manifest: GuestManifest,
    private opts: {
      snapshots?: boolean;
      screen?: HTMLElement | null;
      /** Draw VGA text mode into the screen's canvas too (v86 draws it as DOM text otherwise). */
      graphicalText?: boolean;
      /** Called with the emulator once created: for callers that drive its keyboard and mouse. */
      onEmulator?: (emulator: V86) => void;
      /** Publish the cold-boot snapshot for every host (only the server's headless host may). */
      publishSnapshot?: (gz: ArrayBuffer) => Promise<void>;
      /** `room:tab`: the disk overlay and this VM's snapshots belong to it. */
      diskKey?: string;
      /** Skip every snapshot (after "Reset VM"). */
      coldBoot?: boolean;
      /** Something the user should know that does not stop the VM; `reset`: offer "Reset VM". */
      notice?: (text: string, opts?: { reset?: boolean }) => void;
      /** The network card's Wisp relay (lib/browser/vm/vmNetwork.ts); without it the card has no link. */
      net?: { relayUrl: string; mtu: number; dohServer: string } | null;
      /** The room's state on the server: restored when it is newer than this browser's, uploaded when quiet. */
      roomState?: RoomStateClient;
    } = {},
  ) {
    this.keys = snapshotKeys(manifest, opts.diskKey);
    const engine = this;
    const vm: RunningVm = {
      get emulator() {
        return engine.emulator;
      },
      get disk() {
        return engine.disk;
      },
      get lastOutputAt() {
        return engine.serial.lastOutputAt;
      },
    };
    this.local = new LocalSnapshots(vm, this.gate, this.keys, opts.publishSnapshot);
    this.room = opts.roomState ? new RoomStateSync(opts.roomState, vm, this.gate, manifest, opts.notice) : null;
  }

  /** The root disk of the current boot (null for the initrd guest). */
  disk: OverlayDisk | null = null;
  /** Set when the disk fails: the boot (or the running VM) stops with this message. */
  private diskFailed: ((message: string) => void) | null = null;
  private progress: ((p: BootProgress) => void) | null = null;
  private destroyed = false;
  private releaseDiskLock: (() => void) | null = null;
  /**
   * One VM per overlay: two tabs of this browser writing the same overlay (e.g. a page that just
   * lost hosting and is still flushing, and the one that took over) would interleave two
   * filesystems' blocks. A Web Lock per overlay key serialises them.
   */
  private async lockDisk(): Promise<void> {
    if (this.releaseDiskLock || typeof navigator === 'undefined' || !navigator.locks) return;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), DISK_LOCK_WAIT_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        navigator.locks
          .request(`tandem-disk:${this.overlayKey}`, { signal: abort.signal }, () => new Promise<void>((release) => {
            if (this.destroyed) release(); // stopped while waiting: do not keep it
            else this.releaseDiskLock = release;
            resolve();
          }))
          .catch(() => reject(new Error('another tab of this browser is running this terminal’s VM on the same disk: close it, then reload')));
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The overlay of this room's tab on this disk version (a new disk version starts clean). */
  private get overlayKey(): string {
    return `${this.opts.diskKey ?? 'default:main'}:${this.manifest.disk?.version ?? 'none'}`;
  }

  private newDisk(): OverlayDisk | null {
    const d = this.manifest.disk;
    if (!d) return null;
    const disk = new OverlayDisk({
      size: d.size,
      diskVersion: d.version,
      url: d.url,
      read: httpRangeReader(d.url, d.size),
      store: new OverlayIdbStore(this.overlayKey),
      maxResidentBytes: this.manifest.overlayMemoryMB ? this.manifest.overlayMemoryMB * 2 ** 20 : undefined,
      onFatal: (message) => {
        if (this.diskFailed) return this.diskFailed(message);
        // While the VM runs: the guest's IO would wait forever; stop it and say why.
        this.progress?.({ phase: 'failed', progress: 1, message: `${message}. Reset the VM or reload to boot again.`, stopped: true });
        void this.stopEmulator();
      },
      onStorageError: (message) => this.opts.notice?.(`${message}. Reset the VM to start again with a clean disk.`, { reset: true }),
    });
    return disk;
  }

  /**
   * "Save VM": the running VM as it is now (memory, and with a disk its overlay flushed first), for
   * this room's next load in this browser to restore. Resolves with the stored size; throws with a
   * readable reason (not running, still starting, storage full).
   */
  async save(): Promise<{ bytes: number; ms: number }> {
    if (this.emulator && this.diskFailed) throw new Error('the VM is still starting');
    return this.local.save();
  }

  /**
   * Uploads the running VM's state to the room on the server now (Save VM, giving the VM away,
   * leaving): resolves with the bytes sent (only what the server lacked). Null without a room link.
   */
  syncRoomState(): Promise<{ bytes: number; ms: number } | null> {
    return this.room?.sync() ?? Promise.resolve(null);
  }

  /** The VM's state for the room captured synchronously, as the page closes (see RoomStateSync.captureNow). */
  captureRoomStateNow(): RawRoomStateCapture | null {
    return this.room?.captureNow() ?? null;
  }

  onOutput(cb: (data: string) => void): void {
    this.serial.onOutput(cb);
  }

  write(data: string): void {
    this.serial.write(data);
  }

  resize(): void {
    // The serial console has no window size; the guest keeps 80×24 semantics.
  }

  async boot(onProgress: (p: BootProgress) => void): Promise<{ restored: boolean; ms: number }> {
    this.progress = onProgress;
    bootMark('start');
    // The engine downloads and compiles while the state to restore is chosen and fetched.
    if (!this.manifest.diskError) preloadV86(this.manifest.lib, this.manifest.wasm);
    // What a new room restores downloads from the start too (a browser that has it reads its cache);
    // bootState drops it when the overlay or the room has something else.
    const useState = this.opts.snapshots !== false && !this.opts.coldBoot;
    const trusted = useState && !this.manifest.diskError ? fetchTrusted(this.manifest.version) : null;
    try {
      return await this.bootFrom(onProgress, useState, trusted);
    } finally {
      trusted?.abort();
    }
  }

  /** Opens the disk, chooses the state to restore (see bootState) and boots; a state that does not restore falls back to a cold boot. */
  private async bootFrom(onProgress: (p: BootProgress) => void, useState: boolean, trusted: TrustedFetch | null): Promise<{ restored: boolean; ms: number }> {
    let disk = this.newDisk();
    this.disk = disk;
    if (disk) {
      try {
        await this.lockDisk();
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        onProgress({ phase: 'failed', progress: 0, message });
        throw e;
      }
      if (this.destroyed) throw new Error('the VM was stopped');
      await disk.open();
      if (disk.fatal) {
        onProgress({ phase: 'failed', progress: 0, message: disk.fatal });
        throw new Error(disk.fatal);
      }
      bootMark('disk-open');
    }
    let found: FoundState | null = null;
    if (useState) {
      const reopenDisk = async () => {
        this.disk = this.newDisk();
        await this.disk?.open();
        return this.disk;
      };
      const chosen = await chooseBootState({ manifest: this.manifest, disk, keys: this.keys, overlayKey: this.overlayKey, room: this.room, trusted, reopenDisk, notice: this.opts.notice, onProgress });
      // The room's state may have replaced the overlay (and closed the old disk), whether or not it restores.
      found = chosen.found;
      disk = chosen.disk;
      this.disk = disk;
    }
    bootMark('state-chosen', { source: found?.source ?? 'cold', bytes: found?.state.byteLength ?? 0 });
    if (!found) return this.bootOnce(onProgress, null, disk);
    const wasEmpty = disk?.isEmpty ?? false;
    try {
      return await this.bootOnce(onProgress, found.state, disk, found.source);
    } catch (e) {
      // A snapshot that does not come back to a prompt (another engine version, another disk,
      // damaged) is dropped, and the VM boots cold instead.
      if (this.destroyed) throw e;
      const reason = e instanceof Error ? e.message : String(e);
      this.opts.notice?.(
        found.source === 'room'
          ? `The room's saved VM could not be restored (${reason}); booted from scratch instead${disk ? ', with its files' : ''}.`
          : `The saved VM could not be restored (${reason}); booted from scratch instead.`,
      );
      if (found.key) await deleteSnapshot(found.key);
      await this.stopEmulator();
      if (disk) {
        await disk.close();
        // The server's snapshot put its pages into an empty overlay: take them out again.
        if (wasEmpty) await new OverlayIdbStore(this.overlayKey).clear().catch(() => {});
        disk = this.newDisk();
        this.disk = disk;
        await disk?.open();
      }
      return this.bootOnce(onProgress, null, disk);
    }
  }

  private async stopEmulator(): Promise<void> {
    const e = this.emulator;
    this.emulator = null;
    this.diskFailed = null;
    this.local.stop();
    this.room?.stop();
    this.serial.detach();
    if (e) await e.destroy().catch(() => {});
  }

  private async bootOnce(
    onProgress: (p: BootProgress) => void,
    state: ArrayBuffer | null,
    disk: OverlayDisk | null,
    source: StateSource | null = null,
  ): Promise<{ restored: boolean; ms: number }> {
    const t0 = performance.now();
    let last = 0;
    const report = (phase: BootProgress['phase'], progress: number, message: string) => {
      if (this.destroyed) return;
      last = Math.max(last, Math.min(progress, phase === 'ready' ? 1 : 0.99));
      onProgress({ phase, progress: last, message });
    };
    if (this.manifest.diskError) {
      report('failed', 0, this.manifest.diskError);
      throw new Error(this.manifest.diskError);
    }
    const bad = state && notAV86State(state);
    if (bad) throw new Error(bad);
    report('loading', 0.02, 'Loading the v86 engine');
    const V86Ctor = await loadV86(this.manifest.lib);
    bootMark('lib-loaded');
    const useSnapshots = this.opts.snapshots !== false;
    const wasEmpty = disk?.isEmpty ?? true;

    const emulator = new V86Ctor({
      ...v86Options(this.manifest, {
        restoring: !!state,
        // The root disk is read on demand (OverlayDisk): the guest's writes stay in this browser.
        hda: (disk ?? undefined) as unknown as Parameters<typeof v86Options>[1]['hda'],
        screen: this.opts.screen ? { container: this.opts.screen, graphicalText: !!this.opts.graphicalText } : null,
        net: this.opts.net,
        host: location.host,
      }),
      ...(state ? { initial_state: { buffer: state } } : {}),
      // The wasm preloadV86 compiled while the state was fetched.
      wasm_fn: v86WasmFn(this.manifest.wasm),
    });
    this.emulator = emulator;
    this.opts.onEmulator?.(emulator);
    emulator.add_listener('download-progress', (e) => {
      const file = e.file_count > 0 ? (e.file_index + (e.lengthComputable && e.total ? e.loaded / e.total : 0)) / e.file_count : 0;
      report('loading', 0.05 + 0.3 * file, `Downloading ${e.file_name.split('/').pop()?.split('?')[0] ?? 'files'}`);
    });
    this.serial.attach(emulator);

    this.disk = disk;
    const diskError = new Promise<never>((_, reject) => (this.diskFailed = (m) => reject(new Error(m))));
    diskError.catch(() => {});
    const prompt = this.serial.untilPrompt((reason) => {
      const hint = this.manifest.disk ? ` (is the disk ${this.manifest.disk.url} corrupt? Reset the VM, or rebuild it with npm run build:disk)` : '';
      this.diskFailed?.(`the guest kernel stopped: ${reason}${hint}`);
    });
    const loaded = new Promise<void>((resolve) =>
      emulator.add_listener('emulator-loaded', () => {
        bootMark('emulator-loaded');
        // A restored VM sits at its prompt already: ask for a fresh one so the screen shows it.
        if (state) this.write('\r');
        resolve();
      }),
    );
    /** Waits for `p`, the disk's failure, or `ms` (then fails with `timeoutMessage`); a cold boot that fails says so. */
    const stage = async (p: Promise<unknown>, ms: number, timeoutMessage: string) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([p, diskError, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(timeoutMessage)), ms)))]);
      } catch (e) {
        if (!state) report('failed', last, e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        clearTimeout(timer);
      }
    };
    // v86 reports a state it cannot restore (or a disk that never loads) only by never emitting
    // emulator-loaded: give up after a while rather than spin.
    const restoreMs = source === 'room' ? ROOM_RESTORE_TIMEOUT_MS : RESTORE_TIMEOUT_MS;
    const loadMs = state ? restoreMs : LOAD_TIMEOUT_MS;
    await stage(loaded, loadMs, state ? `the saved state did not load in ${loadMs / 1000} s` : `the VM did not load in ${loadMs / 1000} s`);
    const bootStart = performance.now();
    const ticker = setInterval(() => {
      const f = (performance.now() - bootStart) / (state ? 1000 : EXPECTED_BOOT_MS);
      report('booting', 0.35 + 0.6 * (1 - Math.exp(-2 * f)), state ? 'Restoring saved VM' : 'Booting Linux');
    }, 200);
    if (state) this.serial.syncGuestClock();
    const promptMs = state ? restoreMs : BOOT_TIMEOUT_MS;
    try {
      await stage(prompt, promptMs, `no shell prompt after ${promptMs / 1000} s`);
    } finally {
      clearInterval(ticker);
    }
    // Again at the prompt: a snapshot taken while the guest's clock setter was still starting had
    // no reader on COM2 at load time.
    if (state) this.serial.syncGuestClock();
    bootMark('prompt', { restored: !!state });
    // From here a failing disk stops the running VM (see newDisk).
    this.diskFailed = null;
    const ms = Math.round(performance.now() - t0);
    report('ready', 1, state ? `Restored in ${(ms / 1000).toFixed(1)} s` : `Booted in ${(ms / 1000).toFixed(1)} s`);
    if (disk && useSnapshots && !this.opts.publishSnapshot) this.local.watch(disk, source === 'local');
    else if (!state && useSnapshots) void this.local.take(wasEmpty);
    this.room?.watch(source === 'room');
    return { restored: !!state, ms };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.serial.close();
    this.progress = null;
    // A boot in progress ends now instead of waiting for its timeout.
    this.diskFailed?.('the VM was stopped');
    await this.stopEmulator();
    await this.disk?.close();
    this.releaseDiskLock?.();
    this.releaseDiskLock = null;
  }
}
