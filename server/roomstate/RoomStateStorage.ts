import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RoomStateInfo } from '../../lib/shared/roomState';

export interface StoredChunk {
  hash: string;
  bytes: number;
  /** When it was stored (ms): a chunk no state names yet is kept a while for the upload in progress. */
  storedAt: number;
}

/**
 * Where room states live. Chunks are per room: a room can name only chunks it was sent itself, so a
 * state cannot borrow (or probe for) another room's data. RoomStates holds the rules; this only stores.
 */
export interface RoomStateStorage {
  chunks(room: string): Promise<StoredChunk[]>;
  hasChunk(room: string, hash: string): Promise<boolean>;
  /** Stores verified chunks (each whole or not at all), as stored at `now` (ms). */
  putChunks(room: string, chunks: { hash: string; data: Uint8Array }[], now: number): Promise<void>;
  getChunk(room: string, hash: string): Promise<Buffer | null>;
  deleteChunks(room: string, hashes: string[]): Promise<void>;
  /** States of a room, newest first. */
  states(room: string): Promise<RoomStateInfo[]>;
  putState(room: string, info: RoomStateInfo): Promise<void>;
  deleteState(room: string, id: string): Promise<void>;
  rooms(): Promise<string[]>;
  deleteRoom(room: string): Promise<void>;
}

/**
 * Files under DATA_DIR/roomstate/<room>/: `chunks/<hh>/<hash>` and `states/<createdAt>-<id>.json`.
 * Every file is written to a temporary name and renamed, so a crash leaves whole files or none.
 */
export class FsRoomStateStorage implements RoomStateStorage {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private roomDir = (room: string) => path.join(this.dir, room);
  private chunkFile = (room: string, hash: string) => path.join(this.roomDir(room), 'chunks', hash.slice(0, 2), hash);
  private statesDir = (room: string) => path.join(this.roomDir(room), 'states');

  async chunks(room: string): Promise<StoredChunk[]> {
    const base = path.join(this.roomDir(room), 'chunks');
    const out: StoredChunk[] = [];
    for (const sub of await readdir(base)) {
      for (const name of await readdir(path.join(base, sub))) {
        if (name.endsWith('.tmp')) continue;
        const st = await fsp.stat(path.join(base, sub, name)).catch(() => null);
        if (st) out.push({ hash: name, bytes: st.size, storedAt: st.mtimeMs });
      }
    }
    return out;
  }

  async hasChunk(room: string, hash: string): Promise<boolean> {
    return fsp.access(this.chunkFile(room, hash)).then(
      () => true,
      () => false,
    );
  }

  async putChunks(room: string, chunks: { hash: string; data: Uint8Array }[], now: number): Promise<void> {
    for (const c of chunks) {
      const file = this.chunkFile(room, c.hash);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeAtomic(file, c.data);
      // The file's time is when it was stored, by the caller's clock (retention compares with it).
      await fsp.utimes(file, now / 1000, now / 1000);
    }
  }

  async getChunk(room: string, hash: string): Promise<Buffer | null> {
    return fsp.readFile(this.chunkFile(room, hash)).catch(() => null);
  }

  async deleteChunks(room: string, hashes: string[]): Promise<void> {
    for (const h of hashes) await fsp.rm(this.chunkFile(room, h), { force: true });
  }

  async states(room: string): Promise<RoomStateInfo[]> {
    const names = (await readdir(this.statesDir(room))).filter((n) => n.endsWith('.json')).sort().reverse();
    const out: RoomStateInfo[] = [];
    for (const n of names) {
      try {
        out.push(JSON.parse(await fsp.readFile(path.join(this.statesDir(room), n), 'utf8')) as RoomStateInfo);
      } catch {
        /* a file cut short by a crash: not a state */
      }
    }
    return out;
  }

  async putState(room: string, info: RoomStateInfo): Promise<void> {
    await fsp.mkdir(this.statesDir(room), { recursive: true });
    await writeAtomic(path.join(this.statesDir(room), stateName(info)), Buffer.from(JSON.stringify(info)));
  }

  async deleteState(room: string, id: string): Promise<void> {
    for (const n of await readdir(this.statesDir(room))) if (n.endsWith(`-${id}.json`)) await fsp.rm(path.join(this.statesDir(room), n), { force: true });
  }

  async rooms(): Promise<string[]> {
    return readdir(this.dir);
  }

  async deleteRoom(room: string): Promise<void> {
    await fsp.rm(this.roomDir(room), { recursive: true, force: true });
  }
}

/** Sorts by time as text: a fixed-width creation time first. */
const stateName = (info: RoomStateInfo) => `${String(info.createdAt).padStart(15, '0')}-${info.id}.json`;

async function readdir(dir: string): Promise<string[]> {
  return fsp.readdir(dir).catch(() => []);
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** The same contract in memory: unit tests, and a template for another backend. */
export class MemoryRoomStateStorage implements RoomStateStorage {
  private data = new Map<string, { chunks: Map<string, { data: Buffer; storedAt: number }>; states: RoomStateInfo[] }>();
  private room(r: string) {
    let x = this.data.get(r);
    if (!x) this.data.set(r, (x = { chunks: new Map(), states: [] }));
    return x;
  }
  async chunks(r: string) {
    return [...this.room(r).chunks].map(([hash, c]) => ({ hash, bytes: c.data.length, storedAt: c.storedAt }));
  }
  async hasChunk(r: string, h: string) {
    return this.room(r).chunks.has(h);
  }
  async putChunks(r: string, cs: { hash: string; data: Uint8Array }[], now: number) {
    for (const c of cs) this.room(r).chunks.set(c.hash, { data: Buffer.from(c.data), storedAt: now });
  }
  async getChunk(r: string, h: string) {
    return this.room(r).chunks.get(h)?.data ?? null;
  }
  async deleteChunks(r: string, hs: string[]) {
    for (const h of hs) this.room(r).chunks.delete(h);
  }
  async states(r: string) {
    return [...this.room(r).states].sort((a, b) => b.createdAt - a.createdAt || (b.id > a.id ? 1 : -1));
  }
  async putState(r: string, info: RoomStateInfo) {
    this.room(r).states.push(info);
  }
  async deleteState(r: string, id: string) {
    const x = this.room(r);
    x.states = x.states.filter((s) => s.id !== id);
  }
  async rooms() {
    return [...this.data.keys()];
  }
  async deleteRoom(r: string) {
    this.data.delete(r);
  }
}
