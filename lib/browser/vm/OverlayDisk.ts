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

/** v86 reads and writes in multiples of 256 bytes; the overlay tracks what was written at this grain. */
export const UNIT_BYTES = 256;
/** One overlay record: 16 units, one ext2 block. */
export const PAGE_BYTES = 4096;
const UNITS_PER_PAGE = PAGE_BYTES / UNIT_BYTES;
const FULL_MASK = (1 << UNITS_PER_PAGE) - 1;
/** Range-read granularity: fewer requests than per-sector reads, little overfetch. */
export const DISK_CHUNK_BYTES = 128 * 1024;
/** Base chunks kept in memory (least recently used go first); the guest has its own page cache too. */
export const MAX_READ_CACHE_BYTES = 64 * 1024 * 1024;
/** Dirty pages are written to storage this long after the first write of a batch. */
export const FLUSH_DELAY_MS = 50;
/** Transient read failures (network, 5xx) are retried this many times before the disk gives up. */
const READ_RETRIES = 3;
const RETRY_BASE_MS = 500;
/** A snapshot carries the overlay's pages (see get_state); past this the snapshot is not taken. */
export const MAX_SNAPSHOT_OVERLAY_BYTES = 32 * 1024 * 1024;
/**
 * Written pages kept in memory (least recently used go first, once stored); the rest are read back
 * from the store when the guest reads them. Above MAX_SNAPSHOT_OVERLAY_BYTES, so an overlay small
 * enough to snapshot is always wholly in memory (get_state is synchronous).
 */
export const MAX_RESIDENT_OVERLAY_BYTES = 64 * 1024 * 1024;
const STATE_FORMAT = 'tandem-overlay-1';

export interface OverlayPage {
  data: Uint8Array;
  /** Bit i set: units i (256 bytes each) of this page were written by the guest. */
  mask: number;
}

export interface OverlayMeta {
  /** Random per overlay: a reset makes a new one, so snapshots of the old one never match. */
  id: string;
  diskVersion: string;
  /** Batches persisted so far. */
  generation: number;
}

/** Where the overlay lives: IndexedDB in the browser (OverlayIdbStore), memory in tests. */
export interface OverlayStore {
  load(): Promise<{ meta: OverlayMeta | null; pages: Map<number, OverlayPage> }>;
  /** One stored page (a page the disk let go of from memory, read again). */
  getPage(index: number): Promise<OverlayPage | undefined>;
  /** Writes pages and meta in one transaction: after a crash storage holds a whole batch or none. */
  put(meta: OverlayMeta, pages: [number, OverlayPage][]): Promise<void>;
  clear(): Promise<void>;
  /** Lets go of connections (after the last flush). */
  close?(): void;
}

/** Reads `length` bytes at `start` of the base image. */
export type RangeReader = (start: number, length: number) => Promise<Uint8Array>;

export class DiskReadError extends Error {
  constructor(
    message: string,
    /** Worth retrying (network error, 5xx); a 4xx or a wrong size is not. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** The default RangeReader: fetch with a Range header, checking status, Content-Range and length. */
export function httpRangeReader(url: string, size: number, fetchFn: typeof fetch = fetch): RangeReader {
  return async (start, length) => {
    const end = start + length - 1;
    let r: Response;
    try {
      r = await fetchFn(url, { headers: { range: `bytes=${start}-${end}` }, cache: 'no-store' });
    } catch (e) {
      throw new DiskReadError(`could not read the disk ${url}: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    if (r.status === 416)
      throw new DiskReadError(`the disk ${url} ends before byte ${start} (HTTP 416): it is shorter than the ${size} bytes announced; the image is truncated or was replaced`, false);
    if (r.status !== 206) {
      void r.body?.cancel();
      const what = r.status === 200 ? 'the server ignored the Range header (HTTP 200)' : `HTTP ${r.status}`;
      throw new DiskReadError(`could not read the disk ${url} at ${start}-${end}: ${what}`, r.status >= 500);
    }
    const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(r.headers.get('content-range') ?? '');
    if (!cr || Number(cr[1]) !== start || Number(cr[2]) !== end)
      throw new DiskReadError(`the disk ${url} answered bytes ${cr ? `${cr[1]}-${cr[2]}` : '(no Content-Range)'} for ${start}-${end}`, false);
    if (cr[3] !== '*' && Number(cr[3]) !== size)
      throw new DiskReadError(`the disk ${url} is ${cr[3]} bytes, not the ${size} announced: the image is truncated or was replaced`, false);
    let body: ArrayBuffer;
    try {
      body = await r.arrayBuffer();
    } catch (e) {
      throw new DiskReadError(`reading the disk ${url} broke off: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    if (body.byteLength !== length) throw new DiskReadError(`the disk ${url} sent ${body.byteLength} bytes for ${start}-${end} (expected ${length})`, true);
    return new Uint8Array(body);
  };
}

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
  /** Default MAX_RESIDENT_OVERLAY_BYTES; tests make it small. */
  maxResidentBytes?: number;
}

/** A written page in memory: `data` is null, and `missing` names the units, while only the store has them. */
interface Page {
  data: Uint8Array | null;
  mask: number;
  /** Units written (in `mask`) whose bytes are in the store but not in `data`. */
  missing: number;
}

export class OverlayDisk {
  readonly byteLength: number;
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;
  /** Set once the disk failed; later reads are not attempted. */
  fatal: string | null = null;
  /** Set once storage refused a write: from then on the overlay lives in memory only. */
  storageError: string | null = null;
  /** Bytes of the base image fetched so far (for the bench and the e2e test). */
  bytesFetched = 0;
  /** Guest writes so far, and when the last one came (performance.now()): the engine snapshots a quiet disk. */
  writeCount = 0;
  lastWriteAt = 0;

  private pages = new Map<number, Page>();
  /** Pages whose data is in memory, least recently used first. */
  private resident = new Set<number>();
  private pageLoads = new Map<number, Promise<void>>();
  /** Pages a read in progress needs: not evicted until it is answered. */
  private pinned = new Map<number, number>();
  private dirty = new Set<number>();
  private chunks = new Map<number, Uint8Array>();
  private inflight = new Map<number, Promise<Uint8Array>>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private meta: OverlayMeta | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(private o: OverlayDiskOptions) {
    this.byteLength = o.size;
  }

  /** The overlay as stored when the VM started; null before load(). */
  get loadedMeta(): OverlayMeta | null {
    return this.meta;
  }

  /** True when nothing was ever written: a snapshot of a fresh boot fits it. */
  get isEmpty(): boolean {
    return this.pages.size === 0;
  }

  get overlayBytes(): number {
    return this.pages.size * PAGE_BYTES;
  }

  /** Bytes of written pages held in memory (the rest are in the store only). */
  get residentBytes(): number {
    return this.resident.size * PAGE_BYTES;
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
        for (const [i, p] of pages) {
          this.pages.set(i, { data: p.data, mask: p.mask, missing: 0 });
          this.resident.add(i);
        }
        this.evict();
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
      const tail = await this.o.read(this.byteLength - UNIT_BYTES, UNIT_BYTES);
      this.bytesFetched += tail.byteLength;
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
      return this.evict();
    }
    const first = Math.floor(offset / DISK_CHUNK_BYTES);
    const last = Math.floor((offset + len - 1) / DISK_CHUNK_BYTES);
    const need: Promise<unknown>[] = [];
    for (let c = first; c <= last; c++) if (!this.chunks.has(c) && !this.coveredByOverlay(c, offset, len)) need.push(this.fetchChunk(c));
    // The range's written pages stay in memory until this read is answered (see evict).
    const firstPage = Math.floor(offset / PAGE_BYTES);
    const lastPage = Math.floor((offset + len - 1) / PAGE_BYTES);
    for (let i = firstPage; i <= lastPage; i++) {
      this.pinned.set(i, (this.pinned.get(i) ?? 0) + 1);
      if (this.pages.get(i)?.missing) need.push(this.loadPage(i));
    }
    const unpin = () => {
      for (let i = firstPage; i <= lastPage; i++) {
        const n = (this.pinned.get(i) ?? 1) - 1;
        if (n > 0) this.pinned.set(i, n);
        else this.pinned.delete(i);
      }
    };
    Promise.all(need).then(
      () => {
        if (this.closed) return unpin();
        const data = this.tryAssemble(offset, len);
        if (data) {
          unpin();
          fn(data);
          this.evict();
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
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_BYTES);
      const at = pos - index * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - at, data.length - done);
      let page = this.pages.get(index);
      if (!page) this.pages.set(index, (page = { data: null, mask: 0, missing: 0 }));
      // A page only the store has: the new units go in at once; the older ones are merged in when
      // read or stored (see loadPage).
      page.data ??= new Uint8Array(PAGE_BYTES);
      page.data.set(data.subarray(done, done + n), at);
      for (let u = at / UNIT_BYTES; u < (at + n) / UNIT_BYTES; u++) {
        page.mask |= 1 << u;
        page.missing &= ~(1 << u);
      }
      // Dirty before touched: a dirty page never leaves memory, so the write cannot be evicted.
      this.dirty.add(index);
      this.touch(index);
      done += n;
    }
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
    const pages: [number, Uint8Array, number][] = [];
    for (const [i, p] of this.pages) {
      // Cannot happen below MAX_SNAPSHOT_OVERLAY_BYTES (the engine does not snapshot above it).
      if (!p.data || p.missing) throw new Error('the disk changes are too large to snapshot');
      pages.push([i, p.data, p.mask]);
    }
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
    for (const [i, data, mask] of pages) {
      const have = this.pages.get(i);
      if (have && have.data && !have.missing && have.mask === mask && sameBytes(have.data, data)) continue;
      this.pages.set(i, { data: new Uint8Array(data), mask, missing: 0 });
      this.dirty.add(i);
      this.touch(i);
    }
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

  private async writeBatch(): Promise<void> {
    if (this.dirty.size === 0 || !this.meta || this.storageError) return;
    // A page written while only the store had it: its older units first, or storing it would lose them.
    const merges = [...this.dirty].filter((i) => this.pages.get(i)?.missing).map((i) => this.loadPage(i));
    if (merges.length) {
      try {
        await Promise.all(merges);
      } catch {
        return; // loadPage said why (fatal); the pages stay dirty
      }
    }
    const batch: [number, OverlayPage][] = [];
    // Copies: the guest may write the same page again while the transaction runs.
    for (const i of this.dirty) {
      const p = this.pages.get(i);
      if (p?.data && !p.missing) batch.push([i, { data: p.data.slice(), mask: p.mask }]);
    }
    for (const [i] of batch) this.dirty.delete(i);
    const next: OverlayMeta = { ...this.meta, generation: this.meta.generation + 1 };
    try {
      await this.o.store.put(next, batch);
      this.meta = next;
      this.evict(); // stored pages may leave memory now
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
    const from = Math.max(offset, c * DISK_CHUNK_BYTES);
    const to = Math.min(offset + len, (c + 1) * DISK_CHUNK_BYTES);
    for (let pos = from; pos < to; pos += UNIT_BYTES) {
      const p = this.pages.get(Math.floor(pos / PAGE_BYTES));
      if (!p || !(p.mask & (1 << ((pos % PAGE_BYTES) / UNIT_BYTES)))) return false;
    }
    return true;
  }

  /** The bytes at [offset, offset+len): base chunks overlaid with written units; null if a chunk is missing. */
  private tryAssemble(offset: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let pos = offset; pos < offset + len; ) {
      const c = Math.floor(pos / DISK_CHUNK_BYTES);
      const n = Math.min((c + 1) * DISK_CHUNK_BYTES, offset + len) - pos;
      const chunk = this.chunks.get(c);
      if (chunk) {
        // Touch for LRU: a Map iterates in insertion order.
        this.chunks.delete(c);
        this.chunks.set(c, chunk);
        const at = pos - c * DISK_CHUNK_BYTES;
        out.set(chunk.subarray(at, at + n), pos - offset);
      } else if (!this.coveredByOverlay(c, pos, n)) return null;
      pos += n;
    }
    // Written units win over the base.
    const firstPage = Math.floor(offset / PAGE_BYTES);
    const lastPage = Math.floor((offset + len - 1) / PAGE_BYTES);
    for (let i = firstPage; i <= lastPage; i++) {
      const p = this.pages.get(i);
      if (!p) continue;
      const pageStart = i * PAGE_BYTES;
      if (p.missing) return null; // in the store only: loadPage first
      if (!p.data) continue;
      this.touch(i);
      if (p.mask === FULL_MASK) {
        const from = Math.max(offset, pageStart);
        const to = Math.min(offset + len, pageStart + PAGE_BYTES);
        out.set(p.data.subarray(from - pageStart, to - pageStart), from - offset);
        continue;
      }
      for (let u = 0; u < UNITS_PER_PAGE; u++) {
        if (!(p.mask & (1 << u))) continue;
        const from = pageStart + u * UNIT_BYTES;
        if (from + UNIT_BYTES <= offset || from >= offset + len) continue;
        out.set(p.data.subarray(u * UNIT_BYTES, (u + 1) * UNIT_BYTES), from - offset);
      }
    }
    return out;
  }

  /** Marks a page's data as just used: it leaves memory last. */
  private touch(i: number): void {
    this.resident.delete(i);
    this.resident.add(i);
  }

  /**
   * Lets stored (not dirty) pages go from memory, least recently used first, down to the cap.
   * Called only between operations (after a read is answered, after a batch is stored), never
   * while one is assembling or loading pages: a page it needs cannot vanish under it, so a read
   * always completes (memory may pass the cap by one read's pages, or by writes not yet stored).
   */
  private evict(): void {
    const cap = this.o.maxResidentBytes ?? MAX_RESIDENT_OVERLAY_BYTES;
    if (this.resident.size * PAGE_BYTES <= cap) return;
    for (const i of this.resident) {
      if (this.resident.size * PAGE_BYTES <= cap) break;
      if (this.dirty.has(i) || this.pageLoads.has(i) || this.pinned.has(i)) continue;
      const p = this.pages.get(i);
      if (!p) continue;
      p.data = null;
      p.missing = p.mask;
      this.resident.delete(i);
    }
  }

  /** Reads a page's units that only the store has back into memory (the newer ones in memory win). */
  private loadPage(i: number): Promise<void> {
    let p = this.pageLoads.get(i);
    if (p) return p;
    p = (async () => {
      const stored = await this.o.store.getPage(i);
      const page = this.pages.get(i);
      if (!page || !page.missing) return;
      if (!stored) {
        const message = `the disk changes kept in this browser lost a block (page ${i}); Reset the VM to start again`;
        this.fail(message);
        throw new Error(message);
      }
      page.data ??= new Uint8Array(PAGE_BYTES);
      for (let u = 0; u < UNITS_PER_PAGE; u++) {
        if (!(page.missing & (1 << u))) continue;
        page.data.set(stored.data.subarray(u * UNIT_BYTES, (u + 1) * UNIT_BYTES), u * UNIT_BYTES);
      }
      page.missing = 0;
      this.touch(i);
    })().finally(() => this.pageLoads.delete(i));
    this.pageLoads.set(i, p);
    return p;
  }

  private fetchChunk(c: number): Promise<Uint8Array> {
    let p = this.inflight.get(c);
    if (p) return p;
    const start = c * DISK_CHUNK_BYTES;
    const length = Math.min(DISK_CHUNK_BYTES, this.byteLength - start);
    p = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const data = await this.o.read(start, length);
          this.bytesFetched += data.byteLength;
          // The last chunk may be short; keep every chunk full-sized so offsets stay simple.
          const full = data.byteLength === DISK_CHUNK_BYTES ? data : padded(data);
          this.chunks.set(c, full);
          while (this.chunks.size * DISK_CHUNK_BYTES > MAX_READ_CACHE_BYTES) this.chunks.delete(this.chunks.keys().next().value as number);
          return full;
        } catch (e) {
          const transient = e instanceof DiskReadError ? e.transient : true;
          if (!transient || attempt >= READ_RETRIES || this.closed) throw e;
          await (this.o.sleep ?? defaultSleep)(RETRY_BASE_MS * 2 ** attempt);
        }
      }
    })().finally(() => this.inflight.delete(c));
    this.inflight.set(c, p);
    return p;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(DISK_CHUNK_BYTES);
  out.set(data);
  return out;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function randomId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : Math.random().toString(36).slice(2);
}

/** An OverlayStore in memory: for tests, and the fallback when IndexedDB is unavailable. */
export class MemoryOverlayStore implements OverlayStore {
  meta: OverlayMeta | null = null;
  pages = new Map<number, OverlayPage>();
  /** Make put() throw this (tests: quota exceeded). */
  failWith: unknown = null;

  async load() {
    const pages = new Map<number, OverlayPage>();
    for (const [i, p] of this.pages) pages.set(i, { data: p.data.slice(), mask: p.mask });
    return { meta: this.meta ? { ...this.meta } : null, pages };
  }

  async getPage(index: number) {
    const p = this.pages.get(index);
    return p ? { data: p.data.slice(), mask: p.mask } : undefined;
  }

  async put(meta: OverlayMeta, pages: [number, OverlayPage][]) {
    if (this.failWith) throw this.failWith;
    for (const [i, p] of pages) this.pages.set(i, { data: p.data.slice(), mask: p.mask });
    this.meta = { ...meta };
  }

  async clear() {
    this.meta = null;
    this.pages.clear();
  }
}
