import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManifestError, fetchGuestManifest } from './guestManifestFetch';
import { hostEngineFactory } from '../room/hostEngine';
import type { EngineRequest } from '../room/RoomSession';

const MANIFEST = { version: '0123456789abcdef', engine: 'v86', memoryMB: 128, bios: '/vm/seabios.bin', vgaBios: '/vm/vgabios.bin', bzimage: '/vm/bzImage', cmdline: '', wasm: '/vm/v86.wasm', lib: '/vm/libv86.js' };
const answer = (body: string, status: number, type = 'application/json') => (async () => new Response(body, { status, headers: { 'content-type': type } })) as unknown as typeof fetch;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('fetchGuestManifest', () => {
  it('returns the manifest of a 200', async () => {
    expect(await fetchGuestManifest('/vm/manifest.json', answer(JSON.stringify(MANIFEST), 200))).toEqual(MANIFEST);
  });

  it('names the server’s error code and message for a non-2xx JSON error, instead of reading it as a manifest', async () => {
    const err = await fetchGuestManifest('/vm/manifest.json', answer(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }), 429)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect(err).toMatchObject({ name: 'ManifestError', status: 429, code: 'RATE_LIMITED' });
    expect((err as Error).message).toMatch(/VM’s description.*slow down \(HTTP 429\)/);
  });

  it('says the HTTP status for a non-JSON error page (a proxy’s 502), not a JSON parse failure', async () => {
    const err = await fetchGuestManifest('/vm/manifest.json', answer('<html>Bad Gateway</html>', 502, 'text/html')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ManifestError', status: 502, code: 'HTTP' });
    expect((err as Error).message).toMatch(/HTTP 502/);
    expect((err as Error).message).not.toMatch(/JSON|Unexpected token/);
  });

  it('refuses a 200 that is not a manifest', async () => {
    await expect(fetchGuestManifest('/vm/manifest.json', answer('<html>captive portal</html>', 200, 'text/html'))).rejects.toMatchObject({ name: 'ManifestError', code: 'BAD_MESSAGE' });
    await expect(fetchGuestManifest('/vm/manifest.json', answer('{"ok":true}', 200))).rejects.toMatchObject({ name: 'ManifestError', code: 'BAD_MESSAGE' });
  });

  it('names an unreachable server', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(fetchGuestManifest('/vm/manifest.json', down)).rejects.toMatchObject({ name: 'ManifestError', status: 0, code: 'NETWORK' });
  });

  it('the host page’s engine factory fails with it (RoomSession shows it as the boot’s failure)', async () => {
    vi.stubGlobal('fetch', answer(JSON.stringify({ error: { code: 'INTERNAL', message: 'boom' } }), 500));
    const create = hostEngineFactory({ roomId: 'room-a', params: new URLSearchParams() });
    const req = { view: { cols: () => 80, rows: () => 24, id: 'main' }, isMain: true } as unknown as EngineRequest;
    await expect(create(req)).rejects.toMatchObject({ name: 'ManifestError', status: 500, code: 'INTERNAL' });
  });
});
