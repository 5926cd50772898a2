import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeadlessHostPool } from '../host/HeadlessHostPool';
import type { RelayHub } from '../relay/attachRelay';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import { attachRoomStates } from './attachRoomStates';

/** The headless browser is the boundary: a pool that records what it was asked and "publishes" like a page would. */
function fakePool(publish: (() => void) | null) {
  const calls: string[] = [];
  const pool = {
    ensureHost: async (room: string) => {
      calls.push(`ensure ${room}`);
      publish?.();
    },
    release: async (room: string) => void calls.push(`release ${room}`),
    prepare: () => void calls.push('prepare'),
  } as unknown as HeadlessHostPool;
  return { pool, calls };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(pool: HeadlessHostPool) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-warm-'));
  dirs.push(dataDir);
  const hub = { events: new EventEmitter(), relay: () => undefined } as unknown as RelayHub;
  const rs = attachRoomStates({
    dataDir,
    guest: { version: '0123456789abcdef' } as GuestManifest,
    hub,
    roomExists: () => true,
    maxMb: 1,
    retentionDays: 1,
    handoverWaitMs: 0,
    finalWaitMs: 0,
    isHeadlessHost: () => false,
    canHost: async () => false,
    headless: () => pool,
    log: pino({ level: 'silent' }),
  });
  return { rs, snapshotFile: path.join(dataDir, 'boot.state.gz') };
}

describe('warmBootSnapshot', () => {
  it('does nothing when the trusted boot snapshot exists already (no scratch room, no headless boot)', async () => {
    const { pool, calls } = fakePool(null);
    const { rs, snapshotFile } = setup(pool);
    fs.writeFileSync(snapshotFile, 'gz');
    const created: string[] = [];
    await rs.warmBootSnapshot({ snapshotFile, createRoom: () => (created.push('r'), 'r'), deleteRoom: () => {} });
    expect(created).toEqual([]);
    expect(calls).toEqual([]);
    rs.close();
  });

  it('without one, a headless host boots a scratch room until the snapshot is there, then the room goes', async () => {
    let snapshotFile = '';
    const { pool, calls } = fakePool(() => fs.writeFileSync(snapshotFile, 'gz'));
    const s = setup(pool);
    snapshotFile = s.snapshotFile;
    const deleted: string[] = [];
    await s.rs.warmBootSnapshot({ snapshotFile, createRoom: () => 'scratch', deleteRoom: (id) => deleted.push(id) });
    expect(calls).toEqual(['ensure scratch', 'release scratch']);
    expect(deleted).toEqual(['scratch']);
    expect(fs.existsSync(snapshotFile)).toBe(true);
    s.rs.close();
  });
});
