import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { PROTOCOL_VERSION } from '../../lib/shared/protocol';

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

describe('HTTP routes', () => {
  it('GET /healthz', async () => {
    const r = await fetch(`${srv.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, protocol: PROTOCOL_VERSION });
  });

  it('serves the guest manifest and images with Range support', async () => {
    const m = (await (await fetch(`${srv.url}/vm/manifest.json`)).json()) as { initrd: string; version: string };
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
    const full = await fetch(`${srv.url}${m.initrd}`, { method: 'HEAD' });
    const size = Number(full.headers.get('content-length'));
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(size).toBeGreaterThan(100_000);

    const part = await fetch(`${srv.url}${m.initrd}`, { headers: { range: 'bytes=0-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-5/${size}`);
    // newc cpio magic
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('070701');

    const past = await fetch(`${srv.url}${m.initrd}`, { headers: { range: `bytes=${size + 10}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);

    const etag = full.headers.get('etag')!;
    expect((await fetch(`${srv.url}${m.initrd}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${srv.url}/vm/v86.wasm`, { method: 'HEAD' })).headers.get('content-type')).toBe('application/wasm');
  });

  it('refuses path tricks under /vm', async () => {
    for (const p of ['/vm/..%2Fpackage.json', '/vm/%2e%2e/package.json', '/vm/nope.bin']) {
      expect((await fetch(`${srv.url}${p}`)).status).toBe(404);
    }
  });

  it('creates a room from the form and redirects to it', async () => {
    const r = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=Pairing', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    expect(r.status).toBe(303);
    const id = r.headers.get('location')!.split('/').pop()!;
    expect(srv.server.rooms.get(id)?.name).toBe('Pairing');
  });

  it('refuses an oversized room form', async () => {
    const r = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: `name=${'x'.repeat(10_000)}` });
    expect(r.status).toBe(413);
  });
});
