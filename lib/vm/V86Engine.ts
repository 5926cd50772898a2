import type { V86, V86Options } from 'v86';
import type { BootProgress, Engine } from './Engine';
import { ShellIntegration } from './ShellIntegration';
import type { GuestManifest } from './GuestManifest';

export type { GuestManifest };
import { deleteSnapshot, gunzip, gzip, loadSnapshot, saveSnapshot } from './snapshotStore';


/** A cold boot is expected to take about this long; the bar moves against it until the prompt. */
const EXPECTED_BOOT_MS = 8000;
/** Give up on a boot that shows no prompt in this time: the page says so instead of spinning. */
const BOOT_TIMEOUT_MS = 120_000;
/** A restored VM answers within seconds; past this the snapshot is treated as bad and we boot cold. */
const RESTORE_TIMEOUT_MS = 20_000;
/** Range-read granularity for the root disk: fewer requests than per-sector reads, little overfetch. */
const DISK_CHUNK_BYTES = 128 * 1024;
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
    } = {},
  ) {}

  private get trustedSnapshotUrl(): string {
    return `/vm/boot-snapshot/${this.manifest.version}`;
  }

  /** This browser's own snapshot, else the server's trusted one, else null (cold boot). */
  private async findState(): Promise<{ state: ArrayBuffer; source: 'local' | 'server' } | null> {
    if (this.opts.snapshots === false) return null;
    const local = await loadSnapshot(this.snapshotKey);
    if (local) return { state: local, source: 'local' };
    try {
      const r = await fetch(this.trustedSnapshotUrl);
      if (r.status === 200) return { state: await gunzip(await r.arrayBuffer()), source: 'server' };
    } catch {
      /* none published yet */
    }
    return null;
  }

  get snapshotKey(): string {
    return `v86:${this.manifest.version}`;
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
    const found = await this.findState();
    if (!found) return this.bootOnce(onProgress, null);
    try {
      return await this.bootOnce(onProgress, found.state);
    } catch {
      // A snapshot that does not come back to a prompt is dropped; boot cold instead.
      if (found.source === 'local') await deleteSnapshot(this.snapshotKey);
      await this.stopEmulator();
      return this.bootOnce(onProgress, null);
    }
  }

  private async stopEmulator(): Promise<void> {
    const e = this.emulator;
    this.emulator = null;
    this.onPrompt = null;
    this.shell = new ShellIntegration();
    if (e) await e.destroy().catch(() => {});
  }

  private async bootOnce(onProgress: (p: BootProgress) => void, state: ArrayBuffer | null): Promise<{ restored: boolean; ms: number }> {
    const t0 = performance.now();
    let last = 0;
    const report = (phase: BootProgress['phase'], progress: number, message: string) => {
      last = Math.max(last, Math.min(progress, phase === 'ready' ? 1 : 0.99));
      onProgress({ phase, progress: last, message });
    };
    if (this.manifest.diskError) {
      report('failed', 0, this.manifest.diskError);
      throw new Error(this.manifest.diskError);
    }
    report('loading', 0.02, 'Loading the v86 engine');
    const V86Ctor = await loadLib(this.manifest.lib);
    const useSnapshots = this.opts.snapshots !== false;

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
      // The root disk is read on demand, in chunks v86 caches: the browser never downloads it whole.
      ...(this.manifest.disk ? { hda: { url: this.manifest.disk.url, async: true, size: this.manifest.disk.size, fixed_chunk_size: DISK_CHUNK_BYTES } } : {}),
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      ...(this.opts.screen ? { screen: { container: this.opts.screen, use_graphical_text: !!this.opts.graphicalText } } : { screen_container: null }),
      ...(state ? { initial_state: { buffer: state } } : {}),
    };
    const emulator = new V86Ctor(options);
    this.emulator = emulator;
    this.opts.onEmulator?.(emulator);
    emulator.add_listener('download-progress', (e) => {
      const file = e.file_count > 0 ? (e.file_index + (e.lengthComputable && e.total ? e.loaded / e.total : 0)) / e.file_count : 0;
      report('loading', 0.05 + 0.3 * file, `Downloading ${e.file_name.split('/').pop()?.split('?')[0] ?? 'files'}`);
    });
    emulator.add_listener('serial0-output-byte', (b) => this.pushByte(b));

    const prompt = new Promise<void>((resolve) => (this.onPrompt = resolve));
    const loaded = new Promise<void>((resolve) => emulator.add_listener('emulator-loaded', () => resolve()));
    await loaded;
    const bootStart = performance.now();
    const ticker = setInterval(() => {
      const f = (performance.now() - bootStart) / (state ? 1000 : EXPECTED_BOOT_MS);
      report('booting', 0.35 + 0.6 * (1 - Math.exp(-2 * f)), state ? 'Restoring saved VM' : 'Booting Linux');
    }, 200);
    // A restored VM sits at its prompt already: ask for a fresh one so the screen shows it.
    if (state) setTimeout(() => this.write('\r'), 50);
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        prompt,
        new Promise((_, reject) => {
          const ms = state ? RESTORE_TIMEOUT_MS : BOOT_TIMEOUT_MS;
          timeout = setTimeout(() => reject(new Error(`no shell prompt after ${ms / 1000} s`)), ms);
        }),
      ]);
    } catch (e) {
      if (!state) report('failed', last, e instanceof Error ? e.message : String(e));
      throw e;
    } finally {
      clearInterval(ticker);
      clearTimeout(timeout);
    }
    const ms = Math.round(performance.now() - t0);
    report('ready', 1, state ? `Restored in ${(ms / 1000).toFixed(1)} s` : `Booted in ${(ms / 1000).toFixed(1)} s`);
    if (!state && useSnapshots) void this.takeSnapshot();
    return { restored: !!state, ms };
  }

  /** Saves the booted guest so the next boot restores it in about a second. */
  private async takeSnapshot(): Promise<void> {
    const emulator = this.emulator;
    if (!emulator) return;
    try {
      const state = await emulator.save_state();
      if (this.opts.publishSnapshot) await this.opts.publishSnapshot(await gzip(state));
      else await saveSnapshot(this.snapshotKey, state);
    } catch (e) {
      console.warn('[tandem] snapshot not saved:', e);
    }
  }

  private pushByte(b: number): void {
    this.bytes.push(b);
    this.flushTimer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const text = this.decoder.decode(new Uint8Array(this.bytes), { stream: true });
    this.bytes = [];
    if (!text) return;
    if (this.onPrompt) {
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
    this.listeners = [];
    await this.stopEmulator();
  }
}
