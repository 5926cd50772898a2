/**
 * Where a disk overlay (OverlayDisk) keeps the guest's writes: its written pages and a meta record,
 * stored together per batch.
 */

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
