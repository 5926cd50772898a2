import type { V86, V86Options } from 'v86';
import type { BootProgress, Engine } from './Engine';
import { ShellIntegration } from '../../shared/ShellIntegration';
import type { GuestManifest } from '../../shared/GuestManifest';

export type { GuestManifest };
import { deleteSnapshot, gunzip, gzip, loadSnapshot, saveSnapshot } from './snapshotStore';
import { MAX_SNAPSHOT_OVERLAY_BYTES, OverlayDisk, httpRangeReader } from './OverlayDisk';
import { OverlayIdbStore } from './OverlayIdbStore';
import { isOwnFinalCapture, type RawRoomStateCapture, type RoomStateClient } from './RoomStateClient';
import type { RoomStateInfo } from '../../shared/roomState';


/** A cold boot is expected to take about this long; the bar moves against it until the prompt. */
const EXPECTED_BOOT_MS = 8000;
/** Give up on a boot that shows no prompt in this time: the page says so instead of spinning. */
const BOOT_TIMEOUT_MS = 120_000;
/** A restored VM answers within seconds; past this the snapshot is treated as bad and we boot cold. */
const RESTORE_TIMEOUT_MS = 20_000;
/** The room's saved VM (a handover) is worth waiting longer for on a busy machine: giving up loses its memory. */
const ROOM_RESTORE_TIMEOUT_MS = 60_000;
/**
 * With a disk, the VM is snapshotted once its disk and terminal have been quiet this long (and the
 * disk changed since the last snapshot): the kernel has written back what it will (≈2 s, see the
 * writeback sysctls on its command line), so the snapshot matches the overlay a reload finds.
 */
const QUIET_SNAPSHOT_MS = 4000;
/** The room's state goes to the server once the VM has been quiet (no output, no disk writes) this long after a change. */
const ROOM_STATE_QUIET_MS = 2500;
const MAX_BOOT_TAIL_CHARS = 4096;
/** How long a boot waits for another tab of this browser to let go of the same disk overlay. */
const DISK_LOCK_WAIT_MS = 15_000;
/** Loading the engine files and the saved state (before the guest runs) gives up after this. */
const LOAD_TIMEOUT_MS = 60_000;
/** Output is batched this long before it reaches listeners: one socket frame per burst, not per byte. */
const OUTPUT_FLUSH_MS = 4;

let libPromise: Promise<new (o: V86Options) => V86> | null = null;

/** libv86.js is a classic script that defines window.V86; loading it this way keeps it out of the bundle. */
function loadLib(src: string): Promise<new (o: V86Options) => V86> {
  libPromise ??= new Promise((resolve, reject) => {
    const w = window as unknown as { V86?: new (o: V86Options) => V86 };
    if (w.V86) return resolve(w.V86);
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => (w.V86 ? resolve(w.V86) : reject(new Error('v86 did not load')));
    s.onerror = () => {
      libPromise = null;
      reject(new Error(`could not load the v86 engine from ${src}`));
    };
    document.head.appendChild(s);
  });
  return libPromise;
}

/** v86's state header (src/state.js): STATE_MAGIC, or zstd's frame magic for a compressed state. */
const V86_STATE_MAGIC = 0x86768676;
const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Why `state` cannot be a v86 state, or null. v86 reports a bad state only by throwing inside
 * its own loader, where nobody can catch it (the VM then never loads), so look first.
 */
export function notAV86State(state: ArrayBuffer): string | null {
  if (state.byteLength < 16) return `the saved VM is ${state.byteLength} bytes, too short to be one`;
  const magic = new DataView(state).getUint32(0, true);
  if (magic !== V86_STATE_MAGIC && magic !== ZSTD_MAGIC) return 'the saved VM is not a v86 state (damaged, or from another engine)';
  return null;
}

/** Where a restored state came from: this browser, the server's boot snapshot, or the room's saved VM. */
type StateSource = 'local' | 'server' | 'room';

export class V86Engine implements Engine {
  readonly name = 'v86' as const;
  private emulator: V86 | null = null;
  private listeners: ((data: string) => void)[] = [];
  private decoder = new TextDecoder();
  private encoder = new TextEncoder();
  private bytes: number[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private shell = new ShellIntegration();
  private onPrompt: (() => void) | null = null;

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
  ) {}

  /** The root disk of the current boot (null for the initrd guest). */
  disk: OverlayDisk | null = null;
  /** Set when the disk fails: the boot (or the running VM) stops with this message. */
  private diskFailed: ((message: string) => void) | null = null;
  private progress: ((p: BootProgress) => void) | null = null;
  private destroyed = false;
  private quietTimer: ReturnType<typeof setInterval> | null = null;
  private lastOutputAt = 0;
  /** disk.writeCount when the last snapshot was taken (-1: none yet). */
  private snapshotWrites = -1;
  private snapshotting = false;
  private releaseDiskLock: (() => void) | null = null;
  /** The end of the console output while booting (a kernel panic is looked for in it). */
  private bootTail = '';

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

  private get trustedSnapshotUrl(): string {
    return `/vm/boot-snapshot/${this.manifest.version}`;
  }

  /**
   * This browser's own snapshot, else the server's trusted one, else null (cold boot).
   *
   * With a root disk, a RAM snapshot holds the guest's page cache: restoring it over a disk that
   * changed since would mix two filesystems and corrupt it. So a local snapshot is restored only
   * when the overlay is exactly as it was (same overlay id and persisted generation, its `tag`),
   * and the server's boot snapshot only into an empty overlay (a new room, or after a reset).
   * Otherwise the VM boots cold from the overlay, which is always consistent on its own: the
   * guest sees a disk after a clean `sync` or, at worst, after a crash. Writes since the snapshot
   * are the usual case (a user did something), so reloads after work boot cold; a boot takes seconds.
   */
  private async findState(disk: OverlayDisk | null): Promise<{ state: ArrayBuffer; source: StateSource; key?: string } | null> {
    if (this.opts.snapshots === false || this.opts.coldBoot) return null;
    // This room's own (with a disk, every snapshot; without one, a "Save VM").
    const local = await loadSnapshot(this.roomSnapshotKey);
    if (local && (!disk || local.tag === disk.stateTag)) return { state: local.state, source: 'local', key: this.roomSnapshotKey };
    if (local) await deleteSnapshot(this.roomSnapshotKey); // the disk moved on: this snapshot can never fit again
    if (disk && !disk.isEmpty) return null;
    if (!disk) {
      const booted = await loadSnapshot(this.snapshotKey);
      if (booted) return { state: booted.state, source: 'local', key: this.snapshotKey };
    }
    try {
      const r = await fetch(this.trustedSnapshotUrl);
      if (r.status === 200) return { state: await gunzip(await r.arrayBuffer()), source: 'server' };
    } catch {
      /* none published yet */
    }
    return null;
  }

  /** Where the automatic snapshot goes: with a disk per room and tab like the overlay it belongs to; without, one clean boot per guest version. */
  get snapshotKey(): string {
    return this.manifest.disk ? this.roomSnapshotKey : `v86:${this.manifest.version}`;
  }

  /** This room's tab's own snapshot (Reset VM deletes it). */
  private get roomSnapshotKey(): string {
    return `v86:room:${this.opts.diskKey ?? 'default:main'}:${this.manifest.version}`;
  }

  /**
   * "Save VM": the running VM as it is now (memory, and with a disk its overlay flushed first), for
   * this room's next load in this browser to restore. Resolves with the stored size; throws with a
   * readable reason (not running, storage full).
   */
  async save(): Promise<{ bytes: number; ms: number }> {
    if (!this.emulator) throw new Error('the VM is not running');
    if (this.diskFailed) throw new Error('the VM is still starting');
    if (this.snapshotting) throw new Error('a snapshot is being taken already');
    const t0 = performance.now();
    this.snapshotting = true;
    try {
      const c = await this.capture();
      const bytes = await saveSnapshot(this.roomSnapshotKey, c.state, c.tag);
      this.snapshotWrites = c.writes;
      return { bytes, ms: Math.round(performance.now() - t0) };
    } finally {
      this.snapshotting = false;
    }
  }

  /**
   * The running VM's state with the tag of the overlay it fits (flushed first, so storage holds
   * what the state's page cache expects). Throws when the overlay is too big to carry, or the VM
   * stopped meanwhile. Callers set `snapshotting` around it.
   */
  private async capture(): Promise<{ state: ArrayBuffer; tag: string; writes: number }> {
    const emulator = this.emulator;
    const disk = this.disk;
    if (!emulator) throw new Error('the VM is not running');
    if (disk && disk.overlayBytes > MAX_SNAPSHOT_OVERLAY_BYTES)
      throw new Error(`this VM's disk changes (${Math.round(disk.overlayBytes / 2 ** 20)} MiB) are too large to snapshot; they are kept on disk and the VM boots cold`);
    await disk?.flush();
    if (this.emulator !== emulator) throw new Error('the VM stopped while saving');
    // Read right before the state is captured: no guest code runs in between.
    const tag = disk?.stateTag ?? '';
    const writes = disk?.writeCount ?? 0;
    return { state: await emulator.save_state(), tag, writes };
  }

  onOutput(cb: (data: string) => void): void {
    this.listeners.push(cb);
  }

  write(data: string): void {
    this.emulator?.serial_send_bytes(0, this.encoder.encode(data));
  }

  resize(): void {
    // The serial console has no window size; the guest keeps 80×24 semantics.
  }

  async boot(onProgress: (p: BootProgress) => void): Promise<{ restored: boolean; ms: number }> {
    this.progress = onProgress;
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
    }
    const fromRoom = await this.roomRestore(disk, onProgress);
    // The room's state may have replaced the overlay (and closed the old disk), whether or not it restores.
    disk = this.disk;
    const found = fromRoom ?? (await this.findState(disk));
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

  /**
   * A restored guest's clock runs from when its snapshot was taken (Linux reads the RTC only at
   * boot). The guest's init waits on COM2 for a line of epoch seconds and sets its clock to it.
   */
  private syncGuestClock(): void {
    this.emulator?.serial_send_bytes(1, this.encoder.encode(`${(Date.now() / 1000).toFixed(3)}\n`));
  }

  private async stopEmulator(): Promise<void> {
    const e = this.emulator;
    this.emulator = null;
    this.diskFailed = null;
    this.bootTail = '';
    if (this.quietTimer) clearInterval(this.quietTimer);
    this.quietTimer = null;
    if (this.roomTimer) clearInterval(this.roomTimer);
    this.roomTimer = null;
    this.onPrompt = null;
    this.shell = new ShellIntegration();
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
    const V86Ctor = await loadLib(this.manifest.lib);
    const useSnapshots = this.opts.snapshots !== false;
    const wasEmpty = disk?.isEmpty ?? true;

    const options: V86Options = {
      wasm_path: this.manifest.wasm,
      memory_size: this.manifest.memoryMB * 1024 * 1024,
      vga_memory_size: 2 * 1024 * 1024,
      bios: { url: this.manifest.bios },
      vga_bios: { url: this.manifest.vgaBios },
      // A saved state already holds kernel and initrd in guest memory: skip their download.
      ...(state
        ? {}
        : {
            bzimage: { url: this.manifest.bzimage },
            ...(this.manifest.initrd ? { initrd: { url: this.manifest.initrd } } : {}),
            cmdline: this.manifest.cmdline,
          }),
      // The root disk is read on demand, in chunks (OverlayDisk): the browser never downloads it
      // whole, and the guest's writes stay in this browser.
      ...(disk ? { hda: disk as unknown as V86Options['hda'] } : {}),
      autostart: true,
      // COM2: the page's line to the guest's clock setter (syncGuestClock); never the user's terminal.
      uart1: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      ...(this.opts.screen ? { screen: { container: this.opts.screen, use_graphical_text: !!this.opts.graphicalText } } : { screen_container: null }),
      ...(state ? { initial_state: { buffer: state } } : {}),
      // Every guest of this version has the card (its snapshots include it); the relay gives it a link.
      ...(this.manifest.net
        ? {
            net_device: {
              type: 'virtio' as const,
              relay_url: this.opts.net?.relayUrl ?? `wisp://${location.host}/net/none/`,
              mtu: this.opts.net?.mtu ?? this.manifest.net.mtu,
              doh_server: this.opts.net?.dohServer ?? location.host,
            },
          }
        : {}),
    };
    const emulator = new V86Ctor(options);
    this.emulator = emulator;
    this.opts.onEmulator?.(emulator);
    emulator.add_listener('download-progress', (e) => {
      const file = e.file_count > 0 ? (e.file_index + (e.lengthComputable && e.total ? e.loaded / e.total : 0)) / e.file_count : 0;
      report('loading', 0.05 + 0.3 * file, `Downloading ${e.file_name.split('/').pop()?.split('?')[0] ?? 'files'}`);
    });
    emulator.add_listener('serial0-output-byte', (b) => this.pushByte(b));

    this.disk = disk;
    const prompt = new Promise<void>((resolve) => (this.onPrompt = resolve));
    const diskError = new Promise<never>((_, reject) => (this.diskFailed = (m) => reject(new Error(m))));
    diskError.catch(() => {});
    const loaded = new Promise<void>((resolve) => emulator.add_listener('emulator-loaded', () => resolve()));
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
    // A restored VM sits at its prompt already: ask for a fresh one so the screen shows it.
    if (state) setTimeout(() => this.write('\r'), 50);
    if (state) this.syncGuestClock();
    const promptMs = state ? restoreMs : BOOT_TIMEOUT_MS;
    try {
      await stage(prompt, promptMs, `no shell prompt after ${promptMs / 1000} s`);
    } finally {
      clearInterval(ticker);
    }
    // Again at the prompt: a snapshot taken while the guest's clock setter was still starting had
    // no reader on COM2 at load time.
    if (state) this.syncGuestClock();
    // From here a failing disk stops the running VM (see newDisk).
    this.diskFailed = null;
    const ms = Math.round(performance.now() - t0);
    report('ready', 1, state ? `Restored in ${(ms / 1000).toFixed(1)} s` : `Booted in ${(ms / 1000).toFixed(1)} s`);
    if (disk && useSnapshots && !this.opts.publishSnapshot) {
      // Restored from this browser's snapshot: it still fits. From the server's, the overlay now
      // holds its pages but this browser has no snapshot of them yet: take one when quiet.
      this.snapshotWrites = source === 'local' ? disk.writeCount : -1;
      this.quietTimer = setInterval(() => {
        const now = performance.now();
        if (this.snapshotting || disk.writeCount === this.snapshotWrites) return;
        if (now - disk.lastWriteAt < QUIET_SNAPSHOT_MS || now - this.lastOutputAt < QUIET_SNAPSHOT_MS) return;
        void this.takeSnapshot(false);
      }, 1000);
    } else if (!state && useSnapshots) void this.takeSnapshot(wasEmpty);
    if (this.opts.roomState) this.watchRoomState(source === 'room');
    return { restored: !!state, ms };
  }

  // ---- the room's state on the server (issue 11): restore the newest, upload when quiet ----

  private roomTimer: ReturnType<typeof setInterval> | null = null;
  /** disk.writeCount and the time (performance.now()) the server's copy of the state matches. */
  private roomWrites = -1;
  private roomSyncedAt = -Infinity;
  private roomUpload: Promise<{ bytes: number; ms: number } | null> | null = null;
  /** Uploads are refused for good (no longer the host, another version): stop trying. */
  private roomSyncOff = false;

  /**
   * The room's newest state when this browser does not have it: with a disk, when the state was
   * not made from this browser's own overlay (another browser hosted since); without one, always.
   * Its pages go into a fresh overlay (the old one is dropped) before the VM restores. Null: boot
   * as before (local snapshot, boot snapshot, or cold).
   */
  private async roomRestore(disk: OverlayDisk | null, onProgress: (p: BootProgress) => void): Promise<{ state: ArrayBuffer; source: StateSource; key?: string } | null> {
    const rs = this.opts.roomState;
    if (!rs || this.opts.coldBoot || this.opts.snapshots === false) return null;
    let info: RoomStateInfo | null;
    try {
      info = await rs.latest();
    } catch {
      return null; // the server cannot say: boot from what this browser has
    }
    if (!info || info.manifest.guestVersion !== this.manifest.version) return null;
    // This browser's own lineage is at least as new, unless the state is the final one this
    // browser's page sent as it closed: that one is newer than any local copy (finalState.ts).
    if (disk && disk.loadedMeta?.id === info.manifest.overlayId && !isOwnFinalCapture(rs.room, info)) return null;
    console.info(`[tandem] restoring the room's saved VM ${info.id} (${Math.round(info.bytes / 2 ** 20)} MiB)`);
    try {
      onProgress({ phase: 'loading', progress: 0.03, message: 'Downloading the room’s saved VM' });
      const { vmGz, pages } = await rs.download(info);
      const state = await gunzip(vmGz);
      if (disk) {
        await disk.close();
        const store = new OverlayIdbStore(this.overlayKey);
        await store.clear();
        const id = crypto.randomUUID();
        await store.put({ id, diskVersion: this.manifest.disk!.version, generation: 1 }, pages.map(([i, data, mask]) => [i, { data, mask }]));
        store.close();
        await deleteSnapshot(this.roomSnapshotKey); // belongs to the overlay just replaced
        this.disk = this.newDisk();
        await this.disk!.open();
      }
      return { state, source: 'room' };
    } catch (e) {
      this.opts.notice?.(`The room's saved VM could not be loaded (${e instanceof Error ? e.message : String(e)}); starting from this browser's copy instead.`);
      // The old disk may be closed already (the failure came while replacing the overlay): a fresh one reads what storage holds.
      if (disk) {
        await this.disk?.close().catch(() => {});
        this.disk = this.newDisk();
        await this.disk?.open();
      }
      return null;
    }
  }

  /** Uploads the state once the VM is quiet after a change (output or disk writes). */
  private watchRoomState(restoredFromRoom: boolean): void {
    if (restoredFromRoom) {
      // The server holds this very state; the prompt the restore asked for is not a change.
      this.roomWrites = this.disk?.writeCount ?? 0;
      this.roomSyncedAt = performance.now() + 1000;
    }
    this.roomTimer = setInterval(() => {
      const now = performance.now();
      const disk = this.disk;
      if (this.roomSyncOff || this.roomUpload || this.snapshotting || !this.emulator) return;
      if ((disk?.writeCount ?? 0) === this.roomWrites && this.lastOutputAt <= this.roomSyncedAt) return;
      if (now - (disk?.lastWriteAt ?? 0) < ROOM_STATE_QUIET_MS || now - this.lastOutputAt < ROOM_STATE_QUIET_MS) return;
      void this.syncRoomState().catch((e) => console.warn('[tandem] room state not uploaded:', e));
    }, 1000);
  }

  /**
   * Uploads the running VM's state to the server now (Save VM, giving the VM away, leaving):
   * resolves with the bytes sent (only what the server lacked). Null without a room link.
   */
  syncRoomState(): Promise<{ bytes: number; ms: number } | null> {
    // One at a time; a request during an upload waits for it, then captures what is newer.
    const run = async () => {
      const rs = this.opts.roomState;
      const emulator = this.emulator;
      if (!rs || !emulator || this.roomSyncOff) return null;
      const t0 = performance.now();
      while (this.snapshotting) await new Promise((r) => setTimeout(r, 50));
      this.snapshotting = true;
      let cap: { state: ArrayBuffer; pages: [number, Uint8Array, number][]; writes: number; at: number; meta: OverlayDisk['loadedMeta'] };
      try {
        const disk = this.disk;
        if (disk && disk.overlayBytes > MAX_SNAPSHOT_OVERLAY_BYTES) throw new Error(`the disk changes (${Math.round(disk.overlayBytes / 2 ** 20)} MiB) are too large to save on the server`);
        await disk?.flush();
        if (this.emulator !== emulator) throw new Error('the VM stopped while saving');
        const writes = disk?.writeCount ?? 0;
        const at = performance.now();
        const meta = disk?.loadedMeta ?? null;
        const { result: state, pages } = disk ? await disk.exportState(() => emulator.save_state()) : { result: await emulator.save_state(), pages: [] };
        cap = { state, pages, writes, at, meta };
      } finally {
        this.snapshotting = false;
      }
      try {
        const r = await rs.upload({
          vmGz: await gzip(cap.state),
          pages: cap.pages,
          guestVersion: this.manifest.version,
          diskVersion: this.manifest.disk?.version ?? null,
          overlayId: cap.meta?.id ?? null,
          overlayGeneration: cap.meta?.generation ?? 0,
        });
        return { bytes: r.sentBytes, ms: Math.round(performance.now() - t0) };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'FORBIDDEN' || code === 'STATE_VERSION') this.roomSyncOff = true;
        if (code === 'QUOTA_EXCEEDED' || code === 'TOO_LARGE') this.opts.notice?.(`The VM's state is not saved on the server: ${(e as Error).message}`);
        throw e;
      } finally {
        // Not again until something changes (a refused upload would fail every second).
        this.roomWrites = cap.writes;
        this.roomSyncedAt = cap.at;
      }
    };
    const p = (this.roomUpload ?? Promise.resolve(null)).catch(() => null).then(run);
    this.roomUpload = p;
    void p.finally(() => {
      if (this.roomUpload === p) this.roomUpload = null;
    }).catch(() => {});
    return p;
  }

  /**
   * The running VM's state for the room, captured synchronously with the disk pages beside it: a
   * closing page cannot await (lib/browser/room/finalState.ts). v86's inner save_state is
   * synchronous (its async wrapper only wraps it). Null when there is nothing to send: no room
   * link, uploads refused, or disk changes too large to save on the server.
   */
  captureRoomStateNow(): RawRoomStateCapture | null {
    const inner = (this.emulator as unknown as { v86?: { save_state(): ArrayBuffer } } | null)?.v86;
    const disk = this.disk;
    if (!this.opts.roomState || !inner || this.roomSyncOff) return null;
    if (disk && disk.overlayBytes > MAX_SNAPSHOT_OVERLAY_BYTES) return null;
    try {
      const { result: state, pages } = disk ? disk.exportStateSync(() => inner.save_state()) : { result: inner.save_state(), pages: [] };
      const meta = disk?.loadedMeta ?? null;
      return { state, pages, guestVersion: this.manifest.version, diskVersion: this.manifest.disk?.version ?? null, overlayId: meta?.id ?? null, overlayGeneration: meta?.generation ?? 0 };
    } catch (e) {
      console.warn('[tandem] the final room state could not be captured:', e);
      return null;
    }
  }

  /**
   * Saves the booted guest so the next boot restores it in about a second. With a disk the
   * snapshot is tagged with the overlay's state (see findState), and only a boot that started
   * from an empty overlay may become the server's boot snapshot: its state carries the overlay's
   * pages, which must hold nothing of any room's files.
   */
  private async takeSnapshot(diskWasEmpty: boolean): Promise<void> {
    const disk = this.disk;
    if (!this.emulator) return;
    if (disk && disk.overlayBytes > MAX_SNAPSHOT_OVERLAY_BYTES) return; // too big to be worth it; boots cold
    this.snapshotting = true;
    try {
      const { state, tag, writes } = await this.capture();
      if (this.opts.publishSnapshot) {
        if (diskWasEmpty) await this.opts.publishSnapshot(await gzip(state));
      } else {
        await saveSnapshot(this.snapshotKey, state, tag);
        this.snapshotWrites = writes;
      }
    } catch (e) {
      console.warn('[tandem] snapshot not saved:', e);
      // Not again until the disk changes (a full storage would fail every second).
      if (disk) this.snapshotWrites = disk.writeCount;
    } finally {
      this.snapshotting = false;
    }
  }

  private pushByte(b: number): void {
    this.lastOutputAt = performance.now();
    this.bytes.push(b);
    this.flushTimer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const text = this.decoder.decode(new Uint8Array(this.bytes), { stream: true });
    this.bytes = [];
    if (!text) return;
    if (this.onPrompt) {
      // A kernel that cannot go on (e.g. a corrupt root disk it cannot mount) says so on the
      // console: fail the boot now rather than after BOOT_TIMEOUT_MS.
      this.bootTail = (this.bootTail + text).slice(-MAX_BOOT_TAIL_CHARS);
      const panic = /Kernel panic - not syncing: ([^\r\n]*)\r?\n/.exec(this.bootTail);
      if (panic && this.diskFailed) {
        const disk = this.manifest.disk ? ` (is the disk ${this.manifest.disk.url} corrupt? Reset the VM, or rebuild it with npm run build:disk)` : '';
        this.diskFailed(`the guest kernel stopped: ${panic[1].trim()}${disk}`);
      }
      for (const ev of this.shell.push(text)) {
        if (ev.kind === 'prompt') {
          this.onPrompt();
          this.onPrompt = null;
          break;
        }
      }
    }
    for (const l of this.listeners) l(text);
  }

  async destroy(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.destroyed = true;
    this.listeners = [];
    this.progress = null;
    // A boot in progress ends now instead of waiting for its timeout.
    this.diskFailed?.('the VM was stopped');
    await this.stopEmulator();
    await this.disk?.close();
    this.releaseDiskLock?.();
    this.releaseDiskLock = null;
  }
}
