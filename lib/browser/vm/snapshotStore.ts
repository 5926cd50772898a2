import { openIdb, txDone } from './idb';

/**
 * Boot snapshots in this browser's IndexedDB, keyed by engine and guest version, gzip-compressed.
 * They never leave the browser that made them: a snapshot from one user's browser is never
 * restored in another user's VM.
 */
const DB_NAME = 'tandem';
const STORE = 'snapshots';

const openDb = () => openIdb(DB_NAME, [STORE]);

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const t = db.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    await txDone(t);
    return req.result;
  } finally {
    db.close();
  }
}

export async function pipe(data: ArrayBuffer, stream: CompressionStream | DecompressionStream): Promise<ArrayBuffer> {
  return new Response(new Blob([data]).stream().pipeThrough(stream)).arrayBuffer();
}

export const gzip = (data: ArrayBuffer) => pipe(data, new CompressionStream('gzip'));
export const gunzip = (data: ArrayBuffer) => pipe(data, new DecompressionStream('gzip'));

/** A stored snapshot: its state and the tag it was saved with (e.g. the disk overlay it belongs to). */
type Stored = Blob | { blob: Blob; tag: string };

export async function loadSnapshot(key: string): Promise<{ state: ArrayBuffer; tag: string } | null> {
  try {
    const v = await tx<Stored | undefined>('readonly', (s) => s.get(key) as IDBRequest<Stored | undefined>);
    if (!v) return null;
    const blob = v instanceof Blob ? v : v.blob;
    return { state: await gunzip(await blob.arrayBuffer()), tag: v instanceof Blob ? '' : v.tag };
  } catch {
    await deleteSnapshot(key); // corrupt or unreadable: a cold boot will make a new one
    return null;
  }
}

/** Returns the stored size in bytes, or throws with a readable message (e.g. quota exceeded). */
export async function saveSnapshot(key: string, state: ArrayBuffer, tag = ''): Promise<number> {
  const packed = await gzip(state);
  try {
    await tx('readwrite', (s) => s.put({ blob: new Blob([packed]), tag } satisfies Stored, key));
  } catch (e) {
    const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
    throw new Error(quota ? 'browser storage is full; boot snapshots are off until space is freed' : `could not store snapshot: ${String(e)}`);
  }
  return packed.byteLength;
}

export async function deleteSnapshot(key: string): Promise<void> {
  try {
    await tx('readwrite', (s) => s.delete(key));
  } catch {
    /* nothing stored */
  }
}

/** Deletes every snapshot whose key starts with `prefix` (a room's "Reset VM"). */
export async function deleteSnapshots(prefix: string): Promise<void> {
  await tx('readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
}
