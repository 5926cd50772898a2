import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { call } from '../testing/http';
import { GuestGateway } from '../../lib/browser/vm/GuestGateway';
import { GW_OSC } from '../../lib/browser/vm/gatewayFrames';

/**
 * The CheerpX guests' curl/wget wrapper, end to end without CheerpX (which cannot run here): the
 * REAL sh script as a child process, its "terminal" (TANDEM_GW_TTY=stderr) fed through the
 * REAL page-side GuestGateway in this process acting as the host page, which answers through the
 * REAL server's POST /api/gateway into a temp dir standing in for CheerpX's /data DataDevice.
 */
const WRAPPER = path.resolve(__dirname, '../../scripts/guest/gateway/tandem-gw');
const blob = randomBytes(300_000);
let origin: http.Server;
let originPort: number;
let srv: Awaited<ReturnType<typeof startServer>>;
let room: string;
let netToken: string;
let work: string;

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/blob.bin') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(blob);
    if (u.pathname === '/hello') return void res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'yes' }).end('hello from the origin\n');
    if (u.pathname === '/moved') return void res.writeHead(302, { location: '/hello' }).end('moved\n');
    if (u.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      return void req.on('end', () => res.writeHead(200, { 'x-method': req.method ?? '', 'x-type': req.headers['content-type'] ?? '', 'x-mine': String(req.headers['x-mine'] ?? '') }).end(Buffer.concat(chunks)));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page\n');
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  srv = await startServer({ NET: 'on', NET_ALLOW: `127.0.0.1:${originPort}`, NET_RESOLVER: 'hosts', NET_HOSTS: 'origin.test=127.0.0.1' });
  room = srv.server.rooms.create('gateway wrapper').id;
  const host = await srv.client(room, { wantHost: true });
  await new Promise((r) => setTimeout(r, 50));
  const t = await call(srv, `/api/rooms/${room}/net-token`, { method: 'POST', json: { sid: host.id } });
  expect(t.status).toBe(200);
  netToken = /^\/net\/([^/]+)\/$/.exec(t.json.path)![1];
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gw-'));
});
afterAll(async () => {
  await srv.close();
  origin.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runs the wrapper as `tool` in `cwd`; the page strips its frames from the terminal and answers. */
function run(tool: 'curl' | 'wget', args: string[], opts: { token?: string } = {}) {
  const data = fs.mkdtempSync(path.join(work, 'data-'));
  const cwd = fs.mkdtempSync(path.join(work, 'cwd-'));
  let terminal = '';
  const gw = new GuestGateway({
    baseUrl: srv.url,
    room,
    netToken: opts.token ?? netToken,
    writeFile: async (name, text) => fs.writeFileSync(path.join(data, name), text),
    output: (t) => (terminal += t),
  });
  const child = spawn('/bin/sh', [WRAPPER, tool, ...args], { cwd, env: { NODE_ENV: 'test', PATH: process.env.PATH ?? '/usr/bin:/bin', TANDEM_GW_DIR: data, TANDEM_GW_TTY: 'stderr' } });
  const stdout: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  // Small chunks, as a console delivers them: frames arrive split at arbitrary points.
  child.stderr.on('data', (c: Buffer) => {
    const s = c.toString('latin1');
    for (let i = 0; i < s.length; i += 997) gw.push(s.slice(i, i + 997));
  });
  return new Promise<{ code: number; stdout: Buffer; terminal: string; cwd: string; data: string }>((resolve) =>
    child.on('close', (code) => {
      gw.close();
      resolve({ code: code ?? -1, stdout: Buffer.concat(stdout), terminal: terminal + '', cwd, data });
    }),
  );
}

const url = (p: string) => `http://origin.test:${originPort}${p}`;

describe('the CheerpX curl/wget wrapper through the page and POST /api/gateway', () => {
  it('curl -o downloads a binary file byte-exact, and the terminal never shows a frame', async () => {
    const r = await run('curl', ['-s', '-o', 'blob.bin', url('/blob.bin')]);
    expect(r.code).toBe(0);
    const got = fs.readFileSync(path.join(r.cwd, 'blob.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(blob).digest('hex'));
    expect(r.terminal).toBe('');
    // The page emptied its answer files once the wrapper said it had read them.
    await expect.poll(() => fs.readdirSync(r.data).every((f) => fs.statSync(path.join(r.data, f)).size === 0)).toBe(true);
  });

  it('curl prints to stdout; -L follows a redirect, without -L the 302 itself comes back', async () => {
    expect((await run('curl', [url('/hello')])).stdout.toString()).toBe('hello from the origin\n');
    const followed = await run('curl', ['-sL', url('/moved')]);
    expect(followed.stdout.toString()).toBe('hello from the origin\n');
    const notFollowed = await run('curl', ['-s', '-w', '%{http_code}\\n', url('/moved')]);
    expect(notFollowed.code).toBe(0);
    expect(notFollowed.stdout.toString()).toBe('moved\n302\n');
  });

  it('curl -I prints the status line and headers; -X, -H and --data-binary reach the origin', async () => {
    const h = await run('curl', ['-sI', url('/hello')]);
    expect(h.stdout.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(h.stdout.toString()).toContain('x-origin: yes\r\n');
    fs.writeFileSync(path.join(work, 'payload.bin'), Buffer.from([0, 1, 2, 10, 13, 255]));
    const p = await run('curl', ['-s', '-i', '-X', 'PUT', '-H', 'X-Mine: 42', '--data-binary', `@${path.join(work, 'payload.bin')}`, url('/echo')]);
    const out = p.stdout;
    expect(out.toString('latin1')).toContain('x-method: PUT\r\n');
    expect(out.toString('latin1')).toContain('x-mine: 42\r\n');
    expect(out.toString('latin1')).toContain('x-type: application/x-www-form-urlencoded\r\n');
    expect(out.subarray(out.length - 6)).toEqual(Buffer.from([0, 1, 2, 10, 13, 255]));
    const d = await run('curl', ['-s', '-d', 'a=1', '-d', 'b=2', url('/echo')]);
    expect(d.stdout.toString()).toBe('a=1&b=2');
  });

  it('curl -f on a 404 exits 22 with curl\'s message; without -f the body comes back and it exits 0', async () => {
    const f = await run('curl', ['-f', url('/missing')]);
    expect(f.code).toBe(22);
    expect(f.stdout.length).toBe(0);
    expect(f.terminal).toContain('curl: (22) The requested URL returned error: 404');
    const silent = await run('curl', ['-fs', url('/missing')]);
    expect(silent.code).toBe(22);
    expect(silent.terminal).toBe('');
    const plain = await run('curl', [url('/missing')]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.toString()).toBe('no such page\n');
  });

  it("a refused destination (the server's own port) fails with curl's exit 7 and says why", async () => {
    const r = await run('curl', [`${srv.url}/healthz`]);
    expect(r.code).toBe(7);
    expect(r.terminal).toMatch(/^curl: \(7\) Tandem's gateway: destination refused: (self|loopback) \(127\.0\.0\.1:\d+\)\n$/);
    expect(r.terminal).not.toContain(GW_OSC);
  });

  it('wget saves under the URL\'s name, -O - prints, -q is quiet, a 404 exits 8', async () => {
    const w = await run('wget', [url('/blob.bin')]);
    expect(w.code).toBe(0);
    expect(fs.readFileSync(path.join(w.cwd, 'blob.bin')).equals(blob)).toBe(true);
    expect(w.terminal).toContain("'blob.bin' saved [300000]");
    const o = await run('wget', ['-qO-', url('/hello')]);
    expect(o.stdout.toString()).toBe('hello from the origin\n');
    expect(o.terminal).toBe('');
    const missing = await run('wget', ['-q', url('/missing')]);
    expect(missing.code).toBe(8);
    expect(fs.readdirSync(missing.cwd)).toEqual([]);
  });

  it('a stale or forged network token is refused (the answer names it), nothing is fetched', async () => {
    const r = await run('curl', [url('/hello')], { token: `${netToken.slice(0, -4)}AAAA` });
    expect(r.code).toBe(7);
    expect(r.terminal).toContain('network token is invalid');
    expect(r.stdout.length).toBe(0);
  });

  it("says why when the room's Internet is off (curl 7, wget 4), and works again once it is on", async () => {
    srv.server.rooms.update(room, { internet: false });
    try {
      const c = await run('curl', [url('/hello')]);
      expect(c.code).toBe(7);
      expect(c.terminal).toBe("curl: (7) Tandem's gateway: the room's Internet is turned off (the owner's switch)\n");
      const w = await run('wget', [url('/hello')]);
      expect(w.code).toBe(4);
      expect(w.terminal).toBe("wget: Tandem's gateway: the room's Internet is turned off (the owner's switch)\n");
      expect((await run('wget', ['-q', url('/hello')])).terminal).toBe('');
    } finally {
      srv.server.rooms.update(room, { internet: null });
    }
    expect((await run('curl', ['-s', url('/hello')])).stdout.toString()).toBe('hello from the origin\n');
  });

  it('an unknown option exits 2 like curl', async () => {
    const r = await run('curl', ['--frobnicate', url('/hello')]);
    expect(r.code).toBe(2);
    expect(r.terminal).toContain('option --frobnicate: is unknown');
  });
});
