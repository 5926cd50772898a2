import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { MAX_NEXT_BODY_BYTES } from './serve';

/** A stand-in for Next at the boundary: records what reached it and answers a page. */
const reachedNext: { method?: string; url?: string }[] = [];
const fakeNext = (req: http.IncomingMessage, res: http.ServerResponse) => {
  reachedNext.push({ method: req.method, url: req.url });
  res.writeHead(200, { 'content-type': 'text/html' }).end('<html>page</html>');
};

let srv: Awaited<ReturnType<typeof startServer>>;
let origin: string;
const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-harden-'));
beforeAll(async () => {
  srv = await startServer({}, { dataDir: path.join(parent, 'data'), next: fakeNext });
  // The server's own address (what its headless browser uses) is an allowed origin.
  origin = srv.url.replace('127.0.0.1', 'localhost');
});
afterAll(async () => {
  await srv?.close();
  fs.rmSync(parent, { recursive: true, force: true });
});

/** Writes raw bytes on a fresh connection and resolves with everything the server sent back before closing. */
function raw(request: string | Buffer, opts: { keepSending?: boolean } = {}): Promise<string> {
  const { port } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => resolve(got)); // a reset after the answer is fine: what was answered counts
    s.on('close', () => resolve(got));
    s.setTimeout(5000, () => reject(new Error(`no answer to ${String(request).slice(0, 40)}`)));
    s.write(request);
    if (opts.keepSending) {
      // Keep pushing body bytes: a server that buffered before answering would never answer.
      const junk = Buffer.alloc(64 * 1024, 120);
      const pump = () => !s.destroyed && s.write(junk) && setImmediate(pump);
      pump();
    }
  });
}

describe('HTTP hardening (attacker)', () => {
  it('a malformed %-escape is a 400 at once, on our routes and before Next', async () => {
    for (const p of ['/vm/%ff', '/api/rooms/%ff/members', '/api/commands/%E0%A4%A', '/r/%ff', '/vm/%']) {
      const r = await fetch(`${srv.url}${p}`);
      expect(r.status, p).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('BAD_MESSAGE');
    }
    expect(reachedNext.some((r) => r.url?.includes('%ff'))).toBe(false);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('malformed request lines and targets are a 400, and the server stays up', async () => {
    expect(await raw('GET /vm/\x00x HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw('NOT A REQUEST\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw('GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    // `//host/path` stays a path: it is not read as another host's /path.
    expect(await raw('GET //healthz/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).not.toMatch(/"ok":true/);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('upgrades: a malformed /yjs path is a 400, an unknown path a 404, both closed', async () => {
    const { port } = new URL(srv.url);
    const upgrade = (p: string) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    expect(await raw(upgrade('/yjs/%ff'))).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(upgrade('/nowhere'))).toMatch(/^HTTP\/1\.1 404/);
    expect(await raw(upgrade('/_next/webpack-hmr'))).toMatch(/^HTTP\/1\.1 404/);
  });

  it('a huge body for Next is refused with 413 from its Content-Length, without being read', async () => {
    const head = `POST /api/auth/callback/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${500 * 1024 * 1024}\r\n\r\n`;
    const answer = await raw(head, { keepSending: true });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('TOO_LARGE');
    // A body of unknown length is refused too (Next would read it whole).
    const chunked = await raw('POST /api/auth/callback/credentials HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { keepSending: true });
    expect(chunked).toMatch(/^HTTP\/1\.1 411/);
    expect(reachedNext.filter((r) => r.method === 'POST')).toEqual([]);
    // Within the cap it reaches Next.
    const ok = await fetch(`${srv.url}/api/auth/callback/credentials`, { method: 'POST', body: 'x'.repeat(MAX_NEXT_BODY_BYTES - 1) });
    expect(ok.status).toBe(200);
    expect(reachedNext.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('security headers on pages and on our own routes', async () => {
    for (const p of ['/', '/healthz', '/api/rooms/nope/members', '/vm/manifest.json']) {
      const r = await fetch(`${srv.url}${p}`);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, p).toContain("frame-ancestors 'none'");
      expect(csp).toContain("'wasm-unsafe-eval'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('same-origin');
      expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    }
  });

  it('cross-site form posts are refused by Origin; our own origin and non-browser clients are let in', async () => {
    const form = (headers: Record<string, string>) =>
      fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' });
    const evil = await form({ origin: 'https://evil.example' });
    expect([evil.status, ((await evil.json()) as { error: { code: string } }).error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await form({ origin: 'null' })).status).toBe(403);
    // DNS rebinding: a page at evil.example resolving to us still carries its own Origin.
    expect((await form({ origin: `http://evil.example:${new URL(srv.url).port}`, host: `evil.example:${new URL(srv.url).port}` })).status).toBe(403);
    expect((await form({ origin })).status).toBe(303);
    expect((await form({ origin: srv.url })).status).toBe(303); // 127.0.0.1 and localhost are one server
    expect((await form({})).status).toBe(303);
    // next-auth's callbacks too, before Next sees them.
    const before = reachedNext.length;
    expect((await fetch(`${srv.url}/api/auth/callback/credentials`, { method: 'POST', body: 'a=b', headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect(reachedNext.length).toBe(before);
  });

  it('Socket.IO and Yjs handshakes from another origin are refused', async () => {
    await expect(srv.client('default', { origin: 'https://evil.example' })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const ok = await srv.client('default', { origin });
    ok.disconnect();
    const status = (o: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/yjs/default`, { headers: { origin: o } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    expect(await status('https://evil.example')).toBe(403);
    expect(await status(origin)).toBe(101);
  });

  it('DATA_DIR is created 700 and the database is 600', () => {
    expect(fs.statSync(srv.dataDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(srv.dataDir, 'tandem.sqlite')).mode & 0o777).toBe(0o600);
  });
});
