import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOM_STATE_FORMAT, encodePack } from '../../lib/shared/roomState';
import { FsRoomStateStorage, MemoryRoomStateStorage, type RoomStateStorage } from './RoomStateStorage';
import { PENDING_CHUNK_TTL_MS, RoomStates } from './RoomStates';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const DAY = 24 * 60 * 60 * 1000;
const GUEST = { version: '0123456789abcdef' };

function vm(seed: number) {
  const raw = Buffer.alloc(2048, seed);
  raw.writeUInt32LE(0x86768676, 0);
  return zlib.gzipSync(raw);
}

/** One contract, every backend: what RoomStates relies on a storage for. */
const backends: [string, () => RoomStateStorage][] = [
  ['memory', () => new MemoryRoomStateStorage()],
  ['files', () => new FsRoomStateStorage(fs.mkdtempSync(path.join(tmp, 'fs-')))],
];

describe.each(backends)('RoomStates on %s storage', (_name, make) => {
  const setup = () => {
    let now = 1_000_000_000_000;
    const storage = make();
    const states = new RoomStates({ storage, guest: () => GUEST, maxBytesPerRoom: 1024 * 1024, retentionMs: 30 * DAY, now: () => now });
    const save = async (room: string, seed: number) => {
      const v = vm(seed);
      await states.putPack(room, encodePack([{ hash: sha(v), data: v }]));
      return states.commit(room, { format: ROOM_STATE_FORMAT, guestVersion: GUEST.version, diskVersion: null, overlayId: null, overlayGeneration: 0, vm: { chunks: [sha(v)], bytes: v.length }, pages: [] });
    };
    return { storage, states, save, advance: (ms: number) => (now += ms) };
  };

  it('keeps the newest two states per room and drops chunks no state names once they are old', async () => {
    const { states, storage, save, advance } = setup();
    const a = await save('r1', 1);
    advance(1000);
    const b = await save('r1', 2);
    advance(1000);
    const c = await save('r1', 3);
    expect((await storage.states('r1')).map((s) => s.id)).toEqual([c.id, b.id]);
    expect((await states.latest('r1'))?.id).toBe(c.id);
    // The first state's chunk is unreferenced now, but young: an upload may still be naming it.
    expect(await storage.hasChunk('r1', a.manifest.vm.chunks[0])).toBe(true);
    advance(PENDING_CHUNK_TTL_MS + 1);
    await states.collect('r1', PENDING_CHUNK_TTL_MS);
    expect(await storage.hasChunk('r1', a.manifest.vm.chunks[0])).toBe(false);
    expect(await storage.hasChunk('r1', b.manifest.vm.chunks[0])).toBe(true);
  });

  it('keeps rooms apart: a state may name only chunks its own room was sent', async () => {
    const { states, save } = setup();
    const a = await save('r1', 7);
    await expect(states.commit('r2', a.manifest)).rejects.toMatchObject({ code: 'STATE_INCOMPLETE' });
    await expect(states.readPack('r2', a.manifest.vm.chunks)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('retention: states older than the retention period, and those of deleted rooms, are removed', async () => {
    const { states, save, advance } = setup();
    await save('old', 1);
    advance(20 * DAY);
    await save('fresh', 2);
    await save('gone', 3);
    advance(11 * DAY);
    const removed = await states.sweep((room) => room !== 'gone');
    expect(removed.sort()).toEqual(['gone', 'old']);
    expect(await states.latest('old')).toBeNull();
    expect(await states.latest('fresh')).not.toBeNull();
  });
});
