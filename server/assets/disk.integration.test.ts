import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';

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
    const srv = await startServer({ DISK_SOURCE: disk });
    try {
      const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { disk: { url: string; size: number }; initrd?: string; cmdline: string };
      expect(m.disk.size).toBe(4 * 1024 * 1024);
      expect(m.initrd).toBeUndefined();
      expect(m.cmdline).toContain('root=/dev/sda');
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
