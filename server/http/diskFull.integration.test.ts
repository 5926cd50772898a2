import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { call } from '../testing/http';

/**
 * Chaos: DATA_DIR's disk fills up (a small tmpfs this test mounts itself, as root, and unmounts).
 * Writes fail with STORAGE_FULL (507), nothing stored before is lost, and the server takes writes
 * again once there is space.
 */
const KEY = 'disk-full-key-0123456789';
const root = process.getuid?.() === 0;
const MOUNT_BYTES = 6 * 1024 * 1024;
let mnt: string;
let mounted = false;

beforeAll(() => {
  if (!root) return;
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_BYTES},mode=0700`, 'tandem-full', mnt]);
  mounted = true;
});
afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mnt]);
  if (mnt) fs.rmSync(mnt, { recursive: true, force: true });
});

/** Fills the file system but for `leaveBytes`, in one file that can be deleted to free it all. */
function fill(file: string, leaveBytes: number): void {
  const { bavail, bsize } = fs.statfsSync(path.dirname(file));
  const want = Math.max(0, bavail * bsize - leaveBytes);
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (let written = 0; written < want; ) written += fs.writeSync(fd, chunk, 0, Math.min(chunk.length, want - written));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

describe.skipIf(!root)('DATA_DIR disk full (chaos)', () => {
  it('writes fail with STORAGE_FULL, earlier data survives, writes work again once space returns', async () => {
    const dataDir = path.join(mnt, 'data');
    let srv = await startServer({ API_KEY: KEY, HEADLESS: 'off' }, { dataDir });
    try {
      const owner = await signUp(srv, 'Dora Disk');
      const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Before the flood' } })).json.room.id;
      const cmd = (await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: 'echo kept' }, headers: { authorization: `Bearer ${KEY}` } })).json.id;
      const filler = path.join(mnt, 'filler');
      fill(filler, 16 * 1024);
      // Writes, each a 16 KB command, until the disk refuses one (bounded).
      let refused: Awaited<ReturnType<typeof call>> | null = null;
      for (let i = 0; i < 50 && !refused; i++) {
        const r = await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: `echo ${'x'.repeat(16_000)} ${i}` }, headers: { authorization: `Bearer ${KEY}` } });
        if (r.status !== 202) refused = r;
      }
      expect(refused?.status).toBe(507);
      expect(refused?.json.error.code).toBe('STORAGE_FULL');
      const madeRoom = await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'x'.repeat(80) } });
      expect([201, 507]).toContain(madeRoom.status);
      // Still serving: reads work, health answers.
      expect((await call(srv, '/healthz')).status).toBe(200);
      expect((await call(srv, `/api/commands/${cmd}`, { headers: { authorization: `Bearer ${KEY}` } })).json.cmd).toBe('echo kept');
      // Space returns: writes work again without a restart.
      fs.rmSync(filler);
      const again = await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'After' } });
      expect(again.status, again.text).toBe(201);
      // Nothing stored before is lost, across a restart too.
      await srv.close();
      srv = await startServer({ API_KEY: KEY, HEADLESS: 'off' }, { dataDir });
      expect(srv.server.rooms.get(room)?.name).toBe('Before the flood');
      expect(srv.server.rooms.get(again.json.room.id)?.name).toBe('After');
      expect(srv.server.commands.get(cmd)?.cmd).toBe('echo kept');
      expect(srv.server.accounts.getUser(owner.id)?.name).toBe('Dora Disk');
    } finally {
      await srv.close();
    }
  });
});
