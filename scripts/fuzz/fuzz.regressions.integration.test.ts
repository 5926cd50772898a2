import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../server/testing/startServer';

/** What the fuzz found, each kept as a test that failed before its fix. */
let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

/** One raw HTTP exchange (fetch would normalise the path). */
function raw(request: string): Promise<string> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.end(request));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => (s.destroy(), reject(new Error('no answer'))));
  });
}

describe('fuzz regressions', () => {
  it('answers a malformed %-escape under /vm/ with a named 400, and stays up', async () => {
    const res = await raw('GET /vm/%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 400/);
    expect(res).toContain('"code":"BAD_MESSAGE"');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('refuses a Yjs upgrade with a malformed %-escape with a named 400, and stays up', async () => {
    const res = await raw('GET /yjs/%ff HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 400/);
    expect(res).toContain('"code":"BAD_MESSAGE"');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('answers malformed %-escapes in API ids with named 400s, never a 500 or a dead process', async () => {
    for (const path of ['/api/invites/%', '/api/rooms/%ff/net', '/api/rooms/%ff/net-token', '/api/rooms/%ff/members']) {
      const res = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(res, path).toMatch(/^HTTP\/1\.1 (400|401|404)/);
      expect(res, path).toMatch(/"code":"(BAD_MESSAGE|UNAUTHORIZED|NOT_FOUND)"/);
    }
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('answers a name outside the asset alphabet under /vm/ with a named 404 (it was a bare one)', async () => {
    const r = await fetch(`${srv.url}/vm/a%20b`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
