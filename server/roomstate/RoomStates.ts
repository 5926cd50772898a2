import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { TandemError } from '../../lib/shared/errors';
import {
  MAX_PACK_BYTES,
  OVERLAY_PAGE_BYTES,
  VM_CHUNK_BYTES,
  decodePack,
  encodePack,
  roomStateManifestSchema,
  type RoomStateInfo,
  type RoomStateManifest,
} from '../../lib/shared/roomState';
import type { RoomStateStorage } from './RoomStateStorage';

export const DEFAULT_ROOM_STATE_MAX_MB = 256;
export const DEFAULT_ROOM_STATE_RETENTION_DAYS = 30;
/** States kept per room: the newest, and the one before it in case the newest does not restore. */
export const KEPT_STATES_PER_ROOM = 2;
/** A chunk no kept state names survives this long: the upload that sent it may not have committed yet. */
export const PENDING_CHUNK_TTL_MS = 15 * 60 * 1000;
/** A v86 state of a 128 MiB guest is ~40 MiB raw; a stream inflating past this is not one (or is a bomb). */
export const MAX_VM_STATE_RAW_BYTES = 1024 * 1024 * 1024;
/** v86's state header magic (src/state.js), and zstd's frame magic for a compressed state. */
const V86_STATE_MAGIC = 0x86768676;
const ZSTD_MAGIC = 0xfd2fb528;

export interface RoomStatesOptions {
  storage: RoomStateStorage;
  /** The guest (and disk) the server runs now: states for any other are refused. */
  guest: () => { version: string; disk?: { version: string; size: number } };
  maxBytesPerRoom: number;
  retentionMs: number;
  now?: () => number;
}

const sha256 = (d: Uint8Array) => crypto.createHash('sha256').update(d).digest('hex');

/**
 * The rules of room states (see lib/shared/roomState.ts): chunks are checked against their hash
 * before anything is stored, a manifest only after every chunk it names is here and its VM part
 * inflates whole into a v86 state; quota and retention per room. Who may call what is the routes'.
 */
export class RoomStates {
  constructor(private o: RoomStatesOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async latest(room: string): Promise<RoomStateInfo | null> {
    return (await this.o.storage.states(room))[0] ?? null;
  }

  async usedBytes(room: string): Promise<number> {
    return (await this.o.storage.chunks(room)).reduce((n, c) => n + c.bytes, 0);
  }

  /** Which of `hashes` this room does not have yet (the uploader sends only those). */
  async missing(room: string, hashes: string[]): Promise<string[]> {
    const have = new Set((await this.o.storage.chunks(room)).map((c) => c.hash));
    return [...new Set(hashes)].filter((h) => !have.has(h));
  }

  /** Stores a pack of chunks, all or none: a bad frame, a wrong hash or the quota refuses the whole pack. */
  async putPack(room: string, pack: Uint8Array): Promise<{ stored: number; bytes: number }> {
    if (pack.byteLength > MAX_PACK_BYTES) throw new TandemError('TOO_LARGE', `a pack is at most ${MAX_PACK_BYTES} bytes`);
    let chunks: { hash: string; data: Uint8Array }[];
    try {
      chunks = decodePack(pack);
    } catch (e) {
      throw new TandemError('STATE_CORRUPT', `the chunk pack is damaged: ${(e as Error).message}`);
    }
    for (const c of chunks)
      if (sha256(c.data) !== c.hash) throw new TandemError('STATE_CORRUPT', `chunk ${c.hash.slice(0, 12)}… does not match its hash: damaged in transit`);
    const fresh = await this.missing(room, chunks.map((c) => c.hash));
    const freshSet = new Set(fresh);
    const toStore = chunks.filter((c) => freshSet.delete(c.hash));
    const bytes = toStore.reduce((n, c) => n + c.data.byteLength, 0);
    await this.ensureRoom(room, bytes);
    await this.o.storage.putChunks(room, toStore, this.now());
    return { stored: toStore.length, bytes };
  }

  /** Refuses (QUOTA_EXCEEDED) when `more` bytes would pass the room's quota, after dropping what no state needs. */
  private async ensureRoom(room: string, more: number): Promise<void> {
    if (more === 0) return;
    const max = this.o.maxBytesPerRoom;
    if ((await this.usedBytes(room)) + more <= max) return;
    await this.collect(room, 0); // unreferenced chunks of abandoned uploads go first
    const used = await this.usedBytes(room);
    if (used + more > max)
      throw new TandemError('QUOTA_EXCEEDED', `this room's saved VM states would take ${mb(used + more)} MB, over its ${mb(max)} MB quota (ROOM_STATE_MAX_MB)`);
  }

  /** Checks and stores a state whose chunks were all sent; it becomes the room's latest. */
  async commit(room: string, body: unknown): Promise<RoomStateInfo> {
    const parsed = roomStateManifestSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new TandemError('STATE_CORRUPT', `not a room state: ${i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid'}`);
    }
    const m = parsed.data;
    const guest = this.o.guest();
    if (m.guestVersion !== guest.version)
      throw new TandemError('STATE_VERSION', `this state is for guest version ${m.guestVersion}; the server runs ${guest.version} (another kernel or disk): it cannot be restored here`);
    if (m.diskVersion !== (guest.disk?.version ?? null))
      throw new TandemError('STATE_VERSION', `this state's disk changes are against disk ${m.diskVersion ?? 'none'}; the server's disk is ${guest.disk?.version ?? 'none'}`);
    const maxPage = guest.disk ? Math.ceil(guest.disk.size / OVERLAY_PAGE_BYTES) : 0;
    const seen = new Set<number>();
    for (const [index] of m.pages) {
      if (index >= maxPage) throw new TandemError('STATE_CORRUPT', `page ${index} lies beyond the disk's end`);
      if (seen.has(index)) throw new TandemError('STATE_CORRUPT', `page ${index} appears twice`);
      seen.add(index);
    }
    const stored = new Map((await this.o.storage.chunks(room)).map((c) => [c.hash, c.bytes]));
    const absent = [...m.vm.chunks, ...m.pages.map((p) => p[2])].filter((h) => !stored.has(h));
    if (absent.length) throw new TandemError('STATE_INCOMPLETE', `${absent.length} chunks of this state were never uploaded to this room (first ${absent[0].slice(0, 12)}…)`);
    for (const [index, , h] of m.pages)
      if (stored.get(h) !== OVERLAY_PAGE_BYTES) throw new TandemError('STATE_CORRUPT', `page ${index}'s chunk is ${stored.get(h)} bytes, not ${OVERLAY_PAGE_BYTES}`);
    const sizes = m.vm.chunks.map((h) => stored.get(h)!);
    if (sizes.slice(0, -1).some((s) => s !== VM_CHUNK_BYTES) || sizes.reduce((a, b) => a + b, 0) !== m.vm.bytes)
      throw new TandemError('STATE_CORRUPT', `the VM state's pieces do not add up to its ${m.vm.bytes} bytes: it is cut short or reassembled wrongly`);
    await this.checkVmState(room, m);
    const info: RoomStateInfo = { id: crypto.randomUUID(), createdAt: this.now(), bytes: m.vm.bytes + m.pages.length * OVERLAY_PAGE_BYTES, manifest: m };
    await this.o.storage.putState(room, info);
    const states = await this.o.storage.states(room);
    for (const old of states.slice(KEPT_STATES_PER_ROOM)) await this.o.storage.deleteState(room, old.id);
    await this.collect(room, PENDING_CHUNK_TTL_MS);
    return info;
  }

  /** The VM part must inflate, whole and with a good CRC, into a v86 state: a truncated or foreign file fails here. */
  private async checkVmState(room: string, m: RoomStateManifest): Promise<void> {
    const gunzip = zlib.createGunzip();
    let raw = 0;
    let head: Buffer | null = null;
    const done = new Promise<void>((resolve, reject) => {
      gunzip.on('data', (d: Buffer) => {
        head ??= d;
        raw += d.length;
        if (raw > MAX_VM_STATE_RAW_BYTES) gunzip.destroy(new Error(`it inflates past ${mb(MAX_VM_STATE_RAW_BYTES)} MB`));
      });
      gunzip.on('end', resolve);
      gunzip.on('error', reject);
    });
    done.catch(() => {});
    try {
      for (const h of m.vm.chunks) {
        const c = await this.o.storage.getChunk(room, h);
        if (!c) throw new Error('a piece vanished');
        if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
      }
      gunzip.end();
      await done;
    } catch (e) {
      gunzip.destroy();
      throw new TandemError('STATE_CORRUPT', `the VM state is not a whole gzip stream (${(e as Error).message}): damaged or cut short`);
    }
    const magic = head && (head as Buffer).length >= 4 ? (head as Buffer).readUInt32LE(0) : 0;
    if (magic !== V86_STATE_MAGIC && magic !== ZSTD_MAGIC) throw new TandemError('STATE_CORRUPT', 'the VM state is not a v86 state (another engine, or not a VM at all)');
  }

  /** The chunks `hashes` of this room as one pack (the restoring host asks for what it lacks). */
  async readPack(room: string, hashes: string[]): Promise<Uint8Array<ArrayBuffer>> {
    const out: { hash: string; data: Uint8Array }[] = [];
    let size = 0;
    for (const h of new Set(hashes)) {
      const data = await this.o.storage.getChunk(room, h);
      if (!data) throw new TandemError('NOT_FOUND', `this room has no chunk ${h.slice(0, 12)}…`);
      size += data.length;
      if (size > MAX_PACK_BYTES * 4) throw new TandemError('TOO_LARGE', `ask for at most ${MAX_PACK_BYTES * 4} bytes of chunks at once`);
      out.push({ hash: h, data });
    }
    return encodePack(out);
  }

  /** Deletes chunks no kept state names, once older than `minAgeMs`. */
  async collect(room: string, minAgeMs: number): Promise<void> {
    const keep = new Set<string>();
    for (const s of await this.o.storage.states(room)) {
      for (const h of s.manifest.vm.chunks) keep.add(h);
      for (const p of s.manifest.pages) keep.add(p[2]);
    }
    const cutoff = this.now() - minAgeMs;
    const gone = (await this.o.storage.chunks(room)).filter((c) => !keep.has(c.hash) && c.storedAt <= cutoff).map((c) => c.hash);
    if (gone.length) await this.o.storage.deleteChunks(room, gone);
  }

  /** Retention: rooms that are gone, or whose newest state is older than the retention period, lose their states. */
  async sweep(roomExists: (room: string) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const room of await this.o.storage.rooms()) {
      const latest = await this.latest(room);
      if (!roomExists(room) || !latest || this.now() - latest.createdAt > this.o.retentionMs) {
        if (latest || !roomExists(room) || (await this.o.storage.chunks(room)).every((c) => this.now() - c.storedAt > PENDING_CHUNK_TTL_MS)) {
          await this.o.storage.deleteRoom(room);
          removed.push(room);
        }
      }
    }
    return removed;
  }

  async deleteRoom(room: string): Promise<void> {
    await this.o.storage.deleteRoom(room);
  }
}

const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
