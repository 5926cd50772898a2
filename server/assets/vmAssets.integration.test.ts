import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { createVmAssetHandler } from './vmAssets';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=0, must-revalidate';

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

const cacheOf = async (p: string) => (await fetch(`${srv.url}${p}`, { method: 'HEAD' })).headers.get('cache-control');

describe('VM asset caching', () => {
  it('serves the manifest’s versioned engine and guest files immutable', async () => {
    const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as Record<string, string>;
    for (const url of [m.lib, m.wasm, m.bios, m.vgaBios, m.bzimage, m.initrd]) {
      expect(url).toMatch(/\?v=[0-9a-f]{16}$/);
      expect(await cacheOf(url!), url).toBe(IMMUTABLE);
    }
    // The page derives the fallback build's URL from the wasm's, version and all (v86Lib.ts).
    expect(await cacheOf(m.wasm!.replace('v86.wasm', 'v86-fallback.wasm'))).toBe(IMMUTABLE);
    const bundled = (await (await fetch(`${srv.url}/vm/manifest.json?guest=bundled`)).json()) as Record<string, string>;
    expect(await cacheOf(bundled.lib!)).toBe(IMMUTABLE);
  });

  it('revalidates the same files asked for without a version, or under one this server does not announce', async () => {
    const { version } = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { version: string };
    for (const p of ['/vm/libv86.js', '/vm/v86.wasm', '/vm/bzImage', '/vm/v86.wasm?v=', '/vm/v86.wasm?v=0123456789abcdef', `/vm/v86.wasm?v=${version}x`]) {
      expect(await cacheOf(p), p).toBe(REVALIDATE);
    }
  });

  it('revalidates files the guest version does not cover, even asked under it', async () => {
    const { version } = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { version: string };
    for (const p of [`/vm/tandem.bashrc?v=${version}`, `/vm/kernel.config?v=${version}`, `/vm/LICENSES.md?v=${version}`]) {
      expect(await cacheOf(p), p).toBe(REVALIDATE);
    }
  });
});

describe('VM asset caching when a guest file changes under a running server', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-vm-'));
    fs.writeFileSync(path.join(dir, 'bzImage'), 'kernel one');
    const handler = createVmAssetHandler(dir, dir, ['00000000000000aa']);
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      handler(req, res, url.pathname.slice(1), url.searchParams.get('v'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops answering immutable for a file that is no longer what its version named', async () => {
    const get = async () => (await fetch(`${base}/bzImage?v=00000000000000aa`)).headers.get('cache-control');
    expect(await get()).toBe(IMMUTABLE);
    fs.writeFileSync(path.join(dir, 'bzImage'), 'kernel two, rebuilt');
    expect(await get()).toBe(REVALIDATE);
  });
});
