import { UNIT_BYTES } from './BaseImageCache';
import type { OverlayPage, OverlayStore } from './OverlayStore';

/** One overlay record: 16 units, one ext2 block. */
export const PAGE_BYTES = 4096;
const UNITS_PER_PAGE = PAGE_BYTES / UNIT_BYTES;
const FULL_MASK = (1 << UNITS_PER_PAGE) - 1;

/** A written page in memory: `data` is null, and `missing` names the units, while only the store has them. */
interface Page {
  data: Uint8Array | null;
  mask: number;
  /** Units written (in `mask`) whose bytes are in the store but not in `data`. */
  missing: number;
}

/**
 * The guest's writes, per 4 KiB page and 256-byte unit: which pages are dirty (not yet stored),
 * which are in memory (least recently used leave first, down to a cap, once stored), and reading
 * a page only the store still has back in.
 */
export class OverlayPages {
  private pages = new Map<number, Page>();
  /** Pages whose data is in memory, least recently used first. */
  private resident = new Set<number>();
  private pageLoads = new Map<number, Promise<void>>();
  /** Pages a read in progress needs: not evicted until it is answered. */
  private pinned = new Map<number, number>();
  private dirty = new Set<number>();

  constructor(
    private store: OverlayStore,
    private maxResidentBytes: number,
    /** A stored page is gone: the disk cannot go on. */
    private fail: (message: string) => void,
  ) {}

  get count(): number {
    return this.pages.size;
  }

  get residentBytes(): number {
    return this.resident.size * PAGE_BYTES;
  }

  /** The pages storage held at open. */
  loadStored(pages: Map<number, OverlayPage>): void {
    for (const [i, p] of pages) {
      this.pages.set(i, { data: p.data, mask: p.mask, missing: 0 });
      this.resident.add(i);
    }
    this.evict();
  }

  /** True when every unit of [from, to) was written by the guest. */
  covers(from: number, to: number): boolean {
    for (let pos = from; pos < to; pos += UNIT_BYTES) {
      const p = this.pages.get(Math.floor(pos / PAGE_BYTES));
      if (!p || !(p.mask & (1 << ((pos % PAGE_BYTES) / UNIT_BYTES)))) return false;
    }
    return true;
  }

  /** Copies the written units of [offset, offset+out.length) over `out`; false when a page's units are in the store only. */
  overlay(out: Uint8Array, offset: number): boolean {
    const len = out.length;
    const firstPage = Math.floor(offset / PAGE_BYTES);
    const lastPage = Math.floor((offset + len - 1) / PAGE_BYTES);
    for (let i = firstPage; i <= lastPage; i++) {
      const p = this.pages.get(i);
      if (!p) continue;
      const pageStart = i * PAGE_BYTES;
      if (p.missing) return false; // in the store only: load first
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
    return true;
  }

  /**
   * Keeps the pages of [offset, offset+len) in memory until the returned unpin() (a read in
   * progress needs them), and starts loading those only the store has: wait for `loads`.
   */
  pin(offset: number, len: number): { loads: Promise<void>[]; unpin: () => void } {
    const firstPage = Math.floor(offset / PAGE_BYTES);
    const lastPage = Math.floor((offset + len - 1) / PAGE_BYTES);
    const loads: Promise<void>[] = [];
    for (let i = firstPage; i <= lastPage; i++) {
      this.pinned.set(i, (this.pinned.get(i) ?? 0) + 1);
      if (this.pages.get(i)?.missing) loads.push(this.loadPage(i));
    }
    const unpin = () => {
      for (let i = firstPage; i <= lastPage; i++) {
        const n = (this.pinned.get(i) ?? 1) - 1;
        if (n > 0) this.pinned.set(i, n);
        else this.pinned.delete(i);
      }
    };
    return { loads, unpin };
  }

  /** The guest wrote `data` at `offset` (both multiples of UNIT_BYTES): visible to the next read at once, dirty until stored. */
  write(offset: number, data: Uint8Array): void {
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
  }

  /** Every written page with its data (for a snapshot); throws when some are in the store only. */
  all(): [number, Uint8Array, number][] {
    const out: [number, Uint8Array, number][] = [];
    for (const [i, p] of this.pages) {
      // Cannot happen below MAX_SNAPSHOT_OVERLAY_BYTES (the engine does not snapshot above it).
      if (!p.data || p.missing) throw new Error('the disk changes are too large to snapshot');
      out.push([i, p.data, p.mask]);
    }
    return out;
  }

  /** Puts a snapshot's pages in (dirty: storage gets them with the next batch); a page already the same stays. */
  restore(pages: [number, Uint8Array, number][]): void {
    for (const [i, data, mask] of pages) {
      const have = this.pages.get(i);
      if (have && have.data && !have.missing && have.mask === mask && sameBytes(have.data, data)) continue;
      this.pages.set(i, { data: new Uint8Array(data), mask, missing: 0 });
      this.dirty.add(i);
      this.touch(i);
    }
  }

  /**
   * The dirty pages as a batch to store (copies: the guest may write them again meanwhile), no
   * longer dirty; null when none, or when a page could not be completed from the store.
   */
  async takeDirty(): Promise<[number, OverlayPage][] | null> {
    if (this.dirty.size === 0) return null;
    // A page written while only the store had it: its older units first, or storing it would lose them.
    const merges = [...this.dirty].filter((i) => this.pages.get(i)?.missing).map((i) => this.loadPage(i));
    if (merges.length) {
      try {
        await Promise.all(merges);
      } catch {
        return null; // loadPage said why (fatal); the pages stay dirty
      }
    }
    const batch: [number, OverlayPage][] = [];
    for (const i of this.dirty) {
      const p = this.pages.get(i);
      if (p?.data && !p.missing) batch.push([i, { data: p.data.slice(), mask: p.mask }]);
    }
    for (const [i] of batch) this.dirty.delete(i);
    return batch;
  }

  /**
   * Lets stored (not dirty) pages go from memory, least recently used first, down to the cap.
   * Called only between operations (after a read is answered, after a batch is stored), never
   * while one is assembling or loading pages: a page it needs cannot vanish under it, so a read
   * always completes (memory may pass the cap by one read's pages, or by writes not yet stored).
   */
  evict(): void {
    const cap = this.maxResidentBytes;
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

  /** Marks a page's data as just used: it leaves memory last. */
  private touch(i: number): void {
    this.resident.delete(i);
    this.resident.add(i);
  }

  /** Reads a page's units that only the store has back into memory (the newer ones in memory win). */
  private loadPage(i: number): Promise<void> {
    let p = this.pageLoads.get(i);
    if (p) return p;
    p = (async () => {
      const stored = await this.store.getPage(i);
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
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
