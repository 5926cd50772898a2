/**
 * The room state's caps and its chunk pack codec, without zod: the final-state service worker
 * (lib/browser/room/finalStateWorker.ts) bundles this and not the schemas (roomState.ts, which
 * re-exports all of it for everyone else).
 */
export const ROOM_STATE_FORMAT = 'tandem-room-state-1';
/** The compressed v86 state is cut into pieces of this size (the last is shorter). */
export const VM_CHUNK_BYTES = 1024 * 1024;
/** One overlay page (OverlayDisk.PAGE_BYTES). */
export const OVERLAY_PAGE_BYTES = 4096;
/** A chunk is at most this big: VM pieces are the largest. */
export const MAX_CHUNK_BYTES = VM_CHUNK_BYTES;
/** One upload request carries at most this many bytes of chunks (a resumable unit: a broken upload resends only what is missing). */
export const MAX_PACK_BYTES = 8 * 1024 * 1024;
/** Pages in one state: 64 MiB of overlay (OverlayDisk keeps at most MAX_SNAPSHOT_OVERLAY_BYTES of them in a state). */
export const MAX_STATE_PAGES = 16_384;
/** VM pieces in one state: 128 MiB compressed, far above a 128 MiB guest's ~15 MiB. */
export const MAX_STATE_VM_CHUNKS = 128;
/** Hashes in one "which are missing?" or "send me these" request. */
export const MAX_HASHES_PER_REQUEST = MAX_STATE_PAGES + MAX_STATE_VM_CHUNKS;
const HASH_BYTES = 32;
const FRAME_HEAD_BYTES = HASH_BYTES + 4;

export const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A pack: chunks back to back, each as [32-byte sha256][u32 big-endian length][bytes]. */
export function encodePack(chunks: { hash: string; data: Uint8Array }[]): Uint8Array<ArrayBuffer> {
  const total = chunks.reduce((n, c) => n + FRAME_HEAD_BYTES + c.data.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const c of chunks) {
    out.set(fromHex(c.hash), at);
    view.setUint32(at + HASH_BYTES, c.data.byteLength);
    out.set(c.data, at + FRAME_HEAD_BYTES);
    at += FRAME_HEAD_BYTES + c.data.byteLength;
  }
  return out;
}

/** Splits a pack; throws with a reason when it is cut short or a chunk is over MAX_CHUNK_BYTES. Hashes are not checked here. */
export function decodePack(pack: Uint8Array): { hash: string; data: Uint8Array }[] {
  const out: { hash: string; data: Uint8Array }[] = [];
  const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
  for (let at = 0; at < pack.byteLength; ) {
    if (at + FRAME_HEAD_BYTES > pack.byteLength) throw new Error(`the pack is cut short at byte ${at}`);
    const len = view.getUint32(at + HASH_BYTES);
    if (len > MAX_CHUNK_BYTES) throw new Error(`a chunk of ${len} bytes is over the ${MAX_CHUNK_BYTES}-byte cap`);
    if (at + FRAME_HEAD_BYTES + len > pack.byteLength) throw new Error(`the pack is cut short in a chunk at byte ${at}`);
    out.push({ hash: toHex(pack.subarray(at, at + HASH_BYTES)), data: pack.subarray(at + FRAME_HEAD_BYTES, at + FRAME_HEAD_BYTES + len) });
    at += FRAME_HEAD_BYTES + len;
  }
  return out;
}

/** Groups chunks into packs of at most MAX_PACK_BYTES each. */
export function* packs<T extends { data: Uint8Array }>(chunks: T[], maxBytes = MAX_PACK_BYTES): Generator<T[]> {
  let batch: T[] = [];
  let size = 0;
  for (const c of chunks) {
    const n = FRAME_HEAD_BYTES + c.data.byteLength;
    if (batch.length && size + n > maxBytes) {
      yield batch;
      batch = [];
      size = 0;
    }
    batch.push(c);
    size += n;
  }
  if (batch.length) yield batch;
}
