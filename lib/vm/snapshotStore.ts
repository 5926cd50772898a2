/**
 * Boot snapshots in this browser's IndexedDB, keyed by engine and guest version, gzip-compressed.
 * They never leave the browser that made them: a snapshot from one user's browser is never
 * restored in another user's VM.
 */
const DB_NAME = 'tandem';
const STORE = 'snapshots';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error ?? req.error);
      t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export async function pipe(data: ArrayBuffer, stream: CompressionStream | DecompressionStream): Promise<ArrayBuffer> {
  return new Response(new Blob([data]).stream().pipeThrough(stream)).arrayBuffer();
}

export const gzip = (data: ArrayBuffer) => pipe(data, new CompressionStream('gzip'));
export const gunzip = (data: ArrayBuffer) => pipe(data, new DecompressionStream('gzip'));

export async function loadSnapshot(key: string): Promise<ArrayBuffer | null> {
  try {
    const blob = await tx<Blob | undefined>('readonly', (s) => s.get(key) as IDBRequest<Blob | undefined>);
    if (!blob) return null;
    return await gunzip(await blob.arrayBuffer());
  } catch {
    await deleteSnapshot(key); // corrupt or unreadable: a cold boot will make a new one
    return null;
  }
}

/** Returns the stored size in bytes, or throws with a readable message (e.g. quota exceeded). */
export async function saveSnapshot(key: string, state: ArrayBuffer): Promise<number> {
  const packed = await gzip(state);
  try {
    await tx('readwrite', (s) => s.put(new Blob([packed]), key));
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
