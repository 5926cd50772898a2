import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-disk-'));
const disk = path.join(dir, 'custom.ext2');
// A sparse 4 MiB "disk" with a marker at 1 MiB: enough to check Range reads byte for byte.
fs.writeFileSync(disk, Buffer.alloc(0));
fs.truncateSync(disk, 4 * 1024 * 1024);
const fd = fs.openSync(disk, 'r+');
fs.writeSync(fd, Buffer.from('TANDEM-DISK'), 0, 11, 1024 * 1024);
fs.closeSync(fd);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('root disk from DISK_SOURCE', () => {
  it('is announced in the manifest and served lazily with Range', async () => {
    const srv = await startServer({ DISK_SOURCE: disk, OVERLAY_MEMORY_MB: '16' });
    try {
      const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { disk: { url: string; size: number }; initrd?: string; cmdline: string; overlayMemoryMB: number };
      expect(m.disk.size).toBe(4 * 1024 * 1024);
      expect(m.overlayMemoryMB).toBe(16);
      expect(m.initrd).toBeUndefined();
      expect(m.cmdline).toContain('root=/dev/sda');
      // /alpine's v86 screen asks for the bundled guest (its shell is on the VGA console).
      const bundled = (await (await fetch(`${srv.url}/vm/manifest.json?guest=bundled`)).json()) as { disk?: unknown; initrd?: string };
      expect(bundled.disk).toBeUndefined();
      expect(bundled.initrd).toMatch(/^\/vm\/initrd\.cpio/);
      const part = await fetch(`${srv.url}${m.disk.url}`, { headers: { range: `bytes=${1024 * 1024}-${1024 * 1024 + 10}` } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('TANDEM-DISK');
      expect(part.headers.get('cache-control')).toContain('immutable');
      const past = await fetch(`${srv.url}${m.disk.url}`, { headers: { range: `bytes=${8 * 1024 * 1024}-` } });
      expect(past.status).toBe(416);
      // Only the announced version is served: no guessing other files under /vm/disk.
      expect((await fetch(`${srv.url}/vm/disk/0000.ext2`)).status).toBe(404);
      expect((await fetch(`${srv.url}/vm/disk/..%2F..%2Fpackage.json`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });

  it('gives each room the guest it was made with: the disk by default, the small guest (on v86) when asked', async () => {
    const srv = await startServer({ DISK_SOURCE: disk, VM_ENGINE: 'auto' });
    try {
      const owner = await signUp(srv, 'Gina Guestpicker');
      const make = (json: Record<string, unknown>) => as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json });
      const small = await make({ name: 'light', guest: 'small', engine: 'cheerpx' });
      expect(small.status, small.text).toBe(201);
      expect(small.json.room.guest).toBe('small');
      const full = (await make({ name: 'full' })).json.room;
      expect(full.guest).toBeNull();
      const manifest = async (room: string) => (await (await fetch(`${srv.url}/vm/manifest.json?room=${room}`)).json()) as { disk?: unknown; initrd?: string; engineChoice: string };
      const sm = await manifest(small.json.room.id);
      expect(sm.disk).toBeUndefined();
      expect(sm.initrd).toMatch(/^\/vm\/initrd\.cpio/);
      expect(sm.engineChoice).toBe('v86'); // the small guest is v86's, whatever the room's engine says
      expect((await manifest(full.id)).disk).toBeTruthy();
      // Switched to the disk later, the room boots it.
      const patched = await as(srv, owner.cookie, `/api/rooms/${small.json.room.id}`, { method: 'PATCH', json: { guest: 'disk' } });
      expect(patched.json.room.guest).toBe('disk');
      expect((await manifest(small.json.room.id)).disk).toBeTruthy();
      // The signed-out form takes it too.
      const form = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=Open&guest=small', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
      expect((await manifest(form.headers.get('location')!.split('/').pop()!)).disk).toBeUndefined();
      // Anything else is refused by name.
      const bad = await make({ name: 'x', guest: 'windows' });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('guest');
    } finally {
      await srv.close();
    }
  });

  it('revalidates with ETag, honours If-Range, and answers a disk cut short after start with 416 and its real size', async () => {
    const copy = path.join(dir, 'shrinking.ext2');
    fs.copyFileSync(disk, copy);
    const srv = await startServer({ DISK_SOURCE: copy });
    try {
      const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { disk: { url: string; size: number } };
      const url = `${srv.url}${m.disk.url}`;
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.headers.get('accept-ranges')).toBe('bytes');
      const etag = head.headers.get('etag')!;
      expect(etag).toMatch(/^".+"$/);
      expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
      // If-Range with a stale validator: the whole (new) file, not a piece of it.
      const stale = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
      expect(stale.status).toBe(200);
      expect((await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status).toBe(206);

      // The image loses its second half while the server runs.
      fs.truncateSync(copy, 2 * 1024 * 1024);
      const past = await fetch(url, { headers: { range: `bytes=${m.disk.size - 256}-${m.disk.size - 1}` } });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${2 * 1024 * 1024}`);
      const part = await fetch(url, { headers: { range: 'bytes=0-255' } });
      expect(part.status).toBe(206);
      // The total in Content-Range no longer matches the manifest: the client names the disk as truncated.
      expect(part.headers.get('content-range')).toBe(`bytes 0-255/${2 * 1024 * 1024}`);
      expect(part.headers.get('etag')).not.toBe(etag);
    } finally {
      await srv.close();
    }
  });

  it('refuses an image whose size does not match its build manifest (truncated or corrupt), naming it', async () => {
    const cut = path.join(dir, 'cut.ext2');
    fs.copyFileSync(disk, cut);
    fs.truncateSync(cut, 3 * 1024 * 1024);
    fs.writeFileSync(path.join(dir, 'cut.json'), JSON.stringify({ size: 4 * 1024 * 1024, version: 'abcdef0123456789' }));
    const odd = path.join(dir, 'odd.ext2');
    fs.copyFileSync(disk, odd);
    fs.truncateSync(odd, 4 * 1024 * 1024 - 100);
    for (const [file, text] of [
      [cut, /cut\.ext2 is 3145728 bytes but its build manifest says 4194304: it is truncated or corrupt/],
      [odd, /odd\.ext2 is 4194204 bytes, not a whole number of 512-byte sectors/],
    ] as const) {
      const srv = await startServer({ DISK_SOURCE: file });
      try {
        const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { disk?: unknown; diskError?: string };
        expect(m.disk).toBeUndefined();
        expect(m.diskError).toMatch(text);
      } finally {
        await srv.close();
      }
    }
  });

  it('names a DISK_SOURCE that cannot be used instead of booting something else silently', async () => {
    const srv = await startServer({ DISK_SOURCE: path.join(dir, 'missing.ext2') });
    try {
      const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { disk?: unknown; diskError?: string };
      expect(m.disk).toBeUndefined();
      expect(m.diskError).toContain('missing.ext2');
    } finally {
      await srv.close();
    }
  });
});
