import type { OverlayMeta, OverlayPage, OverlayStore } from './OverlayStore';
import { openIdb, txDone as done } from './idb';

/**
 * OverlayDisk's storage in this browser's IndexedDB. One overlay per key (`room:tab:diskVersion`,
 * see V86Engine): `meta` holds its identity and generation, `pages` its written 4 KiB pages under
 * [key, pageIndex]. A batch of pages and the new meta go in one transaction.
 */
const DB_NAME = 'tandem-disk';
const META = 'meta';
const PAGES = 'pages';

const openDb = () => openIdb(DB_NAME, [META, PAGES]);

const pageRange = (key: string) => IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);

export class OverlayIdbStore implements OverlayStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(readonly key: string) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= openDb().catch((e) => {
      this.db = null;
      throw e;
    });
    return this.db;
  }

  async load(): Promise<{ meta: OverlayMeta | null; pages: Map<number, OverlayPage> }> {
    const db = await this.open();
    const t = db.transaction([META, PAGES], 'readonly');
    const metaReq = t.objectStore(META).get(this.key);
    const keysReq = t.objectStore(PAGES).getAllKeys(pageRange(this.key));
    const valsReq = t.objectStore(PAGES).getAll(pageRange(this.key));
    await done(t);
    const pages = new Map<number, OverlayPage>();
    const keys = keysReq.result as [string, number][];
    const vals = valsReq.result as OverlayPage[];
    keys.forEach(([, i], n) => pages.set(i, vals[n]));
    return { meta: (metaReq.result as OverlayMeta | undefined) ?? null, pages };
  }

  async getPage(index: number): Promise<OverlayPage | undefined> {
    const db = await this.open();
    const t = db.transaction([PAGES], 'readonly');
    const req = t.objectStore(PAGES).get([this.key, index]);
    await done(t);
    return req.result as OverlayPage | undefined;
  }

  async put(meta: OverlayMeta, pages: [number, OverlayPage][]): Promise<void> {
    const db = await this.open();
    const t = db.transaction([META, PAGES], 'readwrite');
    const ps = t.objectStore(PAGES);
    for (const [i, p] of pages) ps.put(p, [this.key, i]);
    t.objectStore(META).put(meta, this.key);
    await done(t);
  }

  async clear(): Promise<void> {
    const db = await this.open();
    const t = db.transaction([META, PAGES], 'readwrite');
    t.objectStore(META).delete(this.key);
    t.objectStore(PAGES).delete(pageRange(this.key));
    await done(t);
  }

  close(): void {
    void this.db?.then((d) => d.close());
    this.db = null;
  }
}

/** Deletes every overlay whose key starts with `prefix` (a room's "Reset VM"). */
export async function clearOverlays(prefix: string): Promise<number> {
  const db = await openDb();
  try {
    const t = db.transaction([META], 'readonly');
    const req = t.objectStore(META).getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
    await done(t);
    const keys = req.result as string[];
    for (const k of keys) {
      const s = new OverlayIdbStore(k);
      await s.clear();
      s.close();
    }
    return keys.length;
  } finally {
    db.close();
  }
}
