/**
 * The v86 root disk as a copy-on-write overlay: reads come lazily from the server over HTTP Range
 * (in fixed chunks), writes stay in this browser (memory + IndexedDB, through an OverlayStore), so
 * files a user creates survive a page reload while the server's image is never written.
 *
 * v86 accepts any object with get/set/load as a disk (`hda: disk`); it calls
 *   load()                      once; we answer through `onload` (or never, after `onerror`)
 *   get(offset, len, fn)        offset/len multiples of 256; fn may run now or later
 *   set(offset, data, fn)       the data must be visible to the next get() at once
 *   get_and_cache / get_from_cache / get_buffer, byteLength, get_state / set_state (snapshots)
 *
 * Durability: a write reaches the overlay only when the guest kernel writes the block back (ext2
 * has no journal; the kernel's dirty writeback is shortened on the kernel command line, and
 * `sync` forces it). The overlay persists its dirty pages within FLUSH_DELAY_MS, in one
 * IndexedDB transaction per batch, and counts batches in `generation`: a RAM snapshot records the
 * generation it was taken at and is only restored while the overlay is still at that generation.
 */

import { BaseImageCache, DISK_CHUNK_BYTES, UNIT_BYTES } from './BaseImageCache';
import type { RangeReader } from './httpRangeReader';
import { OverlayPages, PAGE_BYTES } from './OverlayPages';
import type { OverlayMeta, OverlayStore } from './OverlayStore';

/** Dirty pages are written to storage this long after the first write of a batch. */
export const FLUSH_DELAY_MS = 50;
/** A snapshot carries the overlay's pages (see get_state); past this the snapshot is not taken. */
export const MAX_SNAPSHOT_OVERLAY_BYTES = 32 * 1024 * 1024;
/**
 * Written pages kept in memory (least recently used go first, once stored); the rest are read back
 * from the store when the guest reads them. Above MAX_SNAPSHOT_OVERLAY_BYTES, so an overlay small
 * enough to snapshot is always wholly in memory (get_state is synchronous).
 */
export const MAX_RESIDENT_OVERLAY_BYTES = 64 * 1024 * 1024;
const STATE_FORMAT = 'tandem-overlay-1';

export interface OverlayDiskOptions {
  size: number;
  /** The base image's version: the overlay belongs to it. */
  diskVersion: string;
  /** Names the disk in messages. */
  url: string;
  read: RangeReader;
  store: OverlayStore;
  /** The disk cannot be read: the VM cannot go on (a guest waiting for this read would hang). */
  onFatal?: (message: string) => void;
  /** Storage refused writes (e.g. quota): the VM runs on, but writes are no longer persisted. */
  onStorageError?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
  newId?: () => string;
  /** Default MAX_RESIDENT_OVERLAY_BYTES (the server's OVERLAY_MEMORY_MB); tests make it small. */
  maxResidentBytes?: number;
}

export class OverlayDisk {
  readonly byteLength: number;
  /** Overlays bigger than this are not put in a VM state (local snapshot or room state). */
  readonly maxSnapshotBytes: number;
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;
  /** Set once the disk failed; later reads are not attempted. */
  fatal: string | null = null;
  /** Set once storage refused a write: from then on the overlay lives in memory only. */
  storageError: string | null = null;
  /** Guest writes so far, and when the last one came (performance.now()): the engine snapshots a quiet disk. */
  writeCount = 0;
  lastWriteAt = 0;

  private base: BaseImageCache;
  private pages: OverlayPages;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private meta: OverlayMeta | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(private o: OverlayDiskOptions) {
    this.byteLength = o.size;
    this.base = new BaseImageCache({ size: o.size, read: o.read, sleep: o.sleep });
    const resident = o.maxResidentBytes ?? MAX_RESIDENT_OVERLAY_BYTES;
    this.pages = new OverlayPages(o.store, resident, (m) => this.fail(m));
    // A snapshot's pages must all be in memory (get_state is synchronous): at most half the cap.
    this.maxSnapshotBytes = Math.min(MAX_SNAPSHOT_OVERLAY_BYTES, Math.floor(resident / 2));
  }

  /** True when the overlay is too big to travel in a VM state: such a VM boots cold. */
  get tooBigToSnapshot(): boolean {
    return this.overlayBytes > this.maxSnapshotBytes;
  }

  /** Bytes of the base image fetched so far (for the bench and the e2e test). */
  get bytesFetched(): number {
    return this.base.bytesFetched;
  }

  /** The overlay as stored when the VM started; null before load(). */
  get loadedMeta(): OverlayMeta | null {
    return this.meta;
  }

  /** True when nothing was ever written: a snapshot of a fresh boot fits it. */
  get isEmpty(): boolean {
    return this.pages.count === 0;
  }

  get overlayBytes(): number {
    return this.pages.count * PAGE_BYTES;
  }

  /** Bytes of written pages held in memory (the rest are in the store only). */
  get residentBytes(): number {
    return this.pages.residentBytes;
  }

  /** Matches a snapshot to the overlay state it was taken with (see V86Engine); 'empty' while storage holds nothing. */
  get stateTag(): string {
    return this.meta && this.meta.generation > 0 ? `${this.meta.id}@${this.meta.generation}` : 'empty';
  }

  /**
   * Reads the stored overlay and checks the image's size against the announced one (one 256-byte
   * Range read of its end: a truncated or replaced image fails here, before the guest boots).
   * Idempotent; the engine calls it before deciding on a snapshot, v86 calls load() after.
   */
  open(): Promise<void> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    try {
      const { meta, pages } = await this.o.store.load();
      if (meta && meta.diskVersion === this.o.diskVersion) {
        this.meta = meta;
        this.pages.loadStored(pages);
      } else {
        // Another disk's overlay (cannot happen with per-version keys, but never apply one).
        if (meta) await this.o.store.clear();
        this.meta = { id: this.o.newId?.() ?? randomId(), diskVersion: this.o.diskVersion, generation: 0 };
      }
    } catch (e) {
      // No IndexedDB (private mode, blocked): run from memory and say so.
      this.meta = { id: this.o.newId?.() ?? randomId(), diskVersion: this.o.diskVersion, generation: 0 };
      this.reportStorage(`browser storage is not available (${e instanceof Error ? e.message : String(e)}): changes to the disk will be lost on reload`);
    }
    if (this.byteLength < UNIT_BYTES || this.byteLength % UNIT_BYTES) return this.fail(`the disk ${this.o.url} has an impossible size (${this.byteLength} bytes)`);
    try {
      await this.base.probeEnd();
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
    }
  }

  /** v86's entry point: tells it the disk is ready (never, if the disk cannot be read: see onFatal). */
  async load(): Promise<void> {
    await this.open();
    if (!this.fatal) this.onload?.(Object.create(null));
  }

  get(offset: number, len: number, fn: (data: Uint8Array) => void): void {
    if (this.fatal) return;
    const now = this.tryAssemble(offset, len);
    if (now) {
      fn(now);
      return this.pages.evict();
    }
    const first = Math.floor(offset / DISK_CHUNK_BYTES);
    const last = Math.floor((offset + len - 1) / DISK_CHUNK_BYTES);
    const need: Promise<unknown>[] = [];
    for (let c = first; c <= last; c++) if (!this.base.has(c) && !this.coveredByOverlay(c, offset, len)) need.push(this.base.fetch(c));
    // The range's written pages stay in memory until this read is answered (see OverlayPages.evict).
    const { loads, unpin } = this.pages.pin(offset, len);
    need.push(...loads);
    Promise.all(need).then(
      () => {
        if (this.closed) return unpin();
        const data = this.tryAssemble(offset, len);
        if (data) {
          unpin();
          fn(data);
          this.pages.evict();
        } else {
          this.get(offset, len, fn); // a base chunk left the read cache meanwhile: read again
          unpin();
        }
      },
      (e: unknown) => {
        unpin();
        this.fail(e instanceof Error ? e.message : String(e));
      },
    );
  }

  get_and_cache(offset: number, len: number, fn: (data: Uint8Array) => void): void {
    this.get(offset, len, fn);
  }

  /** Synchronous read when everything is in memory, else undefined (v86 reads the MBR this way). */
  get_from_cache(offset: number, len: number): Uint8Array | undefined {
    return this.tryAssemble(offset, len) ?? undefined;
  }

  get_buffer(fn: (b?: ArrayBuffer) => void): void {
    fn();
  }

  set(offset: number, data: Uint8Array, fn: () => void): void {
    if (offset % UNIT_BYTES || data.length % UNIT_BYTES) throw new Error(`unaligned disk write at ${offset} (${data.length} bytes)`);
    this.pages.write(offset, data);
    this.writeCount++;
    this.lastWriteAt = performance.now();
    this.scheduleFlush();
    fn();
  }

  /** Persists every write made so far; resolves when storage has them (or has refused them). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushing = this.flushing.then(() => this.writeBatch());
    return this.flushing;
  }

  /** Stops timers and in-flight work; pending writes are flushed first. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.base.close();
    this.o.store.close?.();
  }

  /**
   * Saved inside a v86 state: the overlay's identity and its pages. Restoring a state into an
   * overlay that has moved on would mix two disks (the guest's page cache from one, the blocks
   * from another) and corrupt the filesystem, so V86Engine restores a state only into the overlay
   * it was taken with, or (the server's boot snapshot) into an empty one, which then takes the
   * state's pages.
   */
  get_state(): unknown[] {
    const pages = this.pages.all();
    if (this.exporting) {
      // A room state for the server: the pages travel beside the VM state, each content-addressed
      // (an unchanged page is not sent again), so the VM state itself carries none. Copies: the
      // guest may write a page again while they are hashed and sent.
      this.exporting.pages = pages.map(([i, d, m]) => [i, d.slice(), m]);
      return [STATE_FORMAT, this.o.diskVersion, this.stateTag, []];
    }
    return [STATE_FORMAT, this.o.diskVersion, this.stateTag, pages];
  }

  /** Set around a room-state capture: get_state hands its pages here instead of into the state. */
  private exporting: { pages: [number, Uint8Array, number][] } | null = null;

  /** Runs `capture` (v86's save_state) with the pages taken out of the state; returns them with its result. */
  async exportState<T>(capture: () => Promise<T>): Promise<{ result: T; pages: [number, Uint8Array, number][] }> {
    const box = { pages: [] as [number, Uint8Array, number][] };
    this.exporting = box;
    try {
      return { result: await capture(), pages: box.pages };
    } finally {
      this.exporting = null;
    }
  }

  /** exportState for a synchronous capture (v86's inner save_state): a closing page cannot await. */
  exportStateSync<T>(capture: () => T): { result: T; pages: [number, Uint8Array, number][] } {
    const box = { pages: [] as [number, Uint8Array, number][] };
    this.exporting = box;
    try {
      return { result: capture(), pages: box.pages };
    } finally {
      this.exporting = null;
    }
  }

  set_state(state: unknown[]): void {
    const [format, diskVersion, , pages] = state as [string, string, string, [number, Uint8Array, number][]];
    if (format !== STATE_FORMAT || diskVersion !== this.o.diskVersion || !Array.isArray(pages)) {
      // v86 cannot be told "no" here; the engine notices and boots cold (see V86Engine).
      this.fail(`the saved VM belongs to another disk (${String(diskVersion)}, this is ${this.o.diskVersion})`);
      return;
    }
    // The engine restores a state only into the overlay it was taken with (same id and persisted
    // generation) or into an empty one. The state's pages are a superset of what storage held at
    // that generation (writes not yet persisted when it was taken are in it too), so apply them all.
    this.pages.restore(pages);
    this.scheduleFlush();
  }

  private fail(message: string): void {
    if (this.fatal) return;
    this.fatal = message;
    this.o.onFatal?.(message);
  }

  private reportStorage(message: string): void {
    if (this.storageError) return;
    this.storageError = message;
    this.o.onStorageError?.(message);
  }

  private scheduleFlush(): void {
    if (this.closed) return;
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Stores the dirty pages and the next generation in one transaction. */
  private async writeBatch(): Promise<void> {
    if (!this.meta || this.storageError) return;
    const batch = await this.pages.takeDirty();
    if (!batch) return;
    const next: OverlayMeta = { ...this.meta, generation: this.meta.generation + 1 };
    try {
      await this.o.store.put(next, batch);
      this.meta = next;
      this.pages.evict(); // stored pages may leave memory now
    } catch (e) {
      const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
      this.reportStorage(
        quota
          ? 'browser storage is full: changes to the disk are no longer saved and will be lost on reload'
          : `could not save changes to the disk (${e instanceof Error ? e.message : String(e)}); they will be lost on reload`,
      );
    }
  }

  /** True when every unit of [offset, offset+len) inside chunk c was written by the guest. */
  private coveredByOverlay(c: number, offset: number, len: number): boolean {
    return this.pages.covers(Math.max(offset, c * DISK_CHUNK_BYTES), Math.min(offset + len, (c + 1) * DISK_CHUNK_BYTES));
  }

  /** The bytes at [offset, offset+len): base chunks overlaid with written units; null if a chunk or page is not in memory. */
  private tryAssemble(offset: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let pos = offset; pos < offset + len; ) {
      const c = Math.floor(pos / DISK_CHUNK_BYTES);
      const n = Math.min((c + 1) * DISK_CHUNK_BYTES, offset + len) - pos;
      const chunk = this.base.get(c);
      if (chunk) {
        const at = pos - c * DISK_CHUNK_BYTES;
        out.set(chunk.subarray(at, at + n), pos - offset);
      } else if (!this.coveredByOverlay(c, pos, n)) return null;
      pos += n;
    }
    // Written units win over the base.
    return this.pages.overlay(out, offset) ? out : null;
  }
}

function randomId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : Math.random().toString(36).slice(2);
}
