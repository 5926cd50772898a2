import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { call } from '../testing/http';

const API_KEY = 'gateway-test-key-0123456789';
let origin: http.Server;
let originPort: number;
let other: http.Server;
let otherPort: number;
let srv: Awaited<ReturnType<typeof startServer>>;
const seen: http.IncomingHttpHeaders[] = [];

/** The test's destination (the one loopback port NET_ALLOW opens) and its redirects. */
function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  seen.push(req.headers);
  const u = new URL(req.url ?? '/', 'http://x');
  if (u.pathname === '/hello') return void res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'a=b', 'x-test': '1' }).end('hello gateway');
  if (u.pathname === '/binary') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0, 255, 1, 254, 10, 13]));
  if (u.pathname === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    return void req.on('end', () => res.writeHead(200).end(Buffer.concat(chunks)));
  }
  if (u.pathname === '/redirect-ok') return void res.writeHead(302, { location: '/hello' }).end();
  if (u.pathname === '/redirect-inside') return void res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/secret` }).end();
  if (u.pathname === '/redirect-loop') return void res.writeHead(302, { location: '/redirect-loop' }).end();
  if (u.pathname === '/big') return void res.writeHead(200).end('x'.repeat(100_000));
  res.writeHead(404).end();
}

beforeAll(async () => {
  origin = http.createServer(handler);
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  other = http.createServer((_q, s) => s.end('must never be reached'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherPort = (other.address() as AddressInfo).port;
  srv = await startServer({ API_KEY, NET_ALLOW: `127.0.0.1:${originPort}`, NET_RESOLVER: 'hosts', NET_HOSTS: `origin.test=127.0.0.1,inside.test=127.0.0.1` });
});
afterAll(async () => {
  await srv.close();
  origin.close();
  other.close();
});

const gw = (json: unknown, key: string | null = API_KEY) => call(srv, '/api/gateway', { method: 'POST', json, headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('POST /api/gateway (the seed contract)', () => {
  it('fetches text through the policy, strips cookies and hop-by-hop headers, follows a redirect by hand', async () => {
    const r = await gw({ url: `http://origin.test:${originPort}/redirect-ok`, headers: { cookie: 'secret=1', connection: 'close', 'x-mine': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 200, statusText: 'OK', data: 'hello gateway', headers: { 'x-test': '1', 'content-type': 'text/plain' } });
    expect(r.json.headers['set-cookie']).toBeUndefined();
    const last = seen.at(-1)!;
    expect(last.cookie).toBeUndefined();
    expect(last['x-mine']).toBe('yes');
    expect(last.host).toBe(`origin.test:${originPort}`);
  });

  it('is binary-safe both ways', async () => {
    const bin = await gw({ url: `http://127.0.0.1:${originPort}/binary`, responseType: 'arrayBuffer' });
    expect(Buffer.from(bin.json.data_b64, 'base64')).toEqual(Buffer.from([0, 255, 1, 254, 10, 13]));
    const echo = await gw({ url: `http://127.0.0.1:${originPort}/echo`, method: 'POST', body_b64: Buffer.from([0, 1, 2, 255]).toString('base64'), responseType: 'arrayBuffer' });
    expect(Buffer.from(echo.json.data_b64, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('refuses refused ranges after DNS, on redirect hops, and past 5 redirects, with a named reason', async () => {
    const before = seen.length;
    for (const url of [`http://127.0.0.1:${otherPort}/`, `http://inside.test:${otherPort}/`, `http://[::ffff:127.0.0.1]:${otherPort}/`, 'http://169.254.169.254/latest/meta-data', `http://127.1:${Number(new URL(srv.url).port)}/healthz`]) {
      const r = await gw({ url });
      expect(r.status, url).toBe(403);
      expect(r.json.error.code).toBe('FORBIDDEN');
      expect(r.json.error.message).toMatch(/destination refused: (loopback|link_local|self)/);
    }
    const hop = await gw({ url: `http://127.0.0.1:${originPort}/redirect-inside` });
    expect(hop.status).toBe(403);
    expect(hop.json.error.message).toContain('loopback');
    expect(seen.length - before).toBe(1); // only the first hop reached anything
    const loop = await gw({ url: `http://127.0.0.1:${originPort}/redirect-loop` });
    expect(loop.status).toBe(502);
    expect(loop.json.error.message).toContain('redirects');
    const audit = (await call(srv, `/api/rooms/default/net?api_key=${API_KEY}`)).json;
    expect(audit.connections.some((r: { kind: string; refused: string }) => r.kind === 'gateway' && r.refused === 'loopback')).toBe(true);
  });

  it('caps the response (or truncates it when asked), validates the body, needs credentials', async () => {
    const cut = await gw({ url: `http://127.0.0.1:${originPort}/big`, truncate: true, maxLength: 10 });
    expect(cut.json.data).toBe('xxxxxxxxxx');
    expect((await gw({ url: 'file:///etc/passwd' })).status).toBe(400);
    expect((await gw({ url: `http://127.0.0.1:${originPort}/`, method: 'TRACE' })).status).toBe(400);
    expect((await gw({ nope: 1 })).status).toBe(400);
    expect((await gw({ url: `http://127.0.0.1:${originPort}/hello` }, null)).status).toBe(401);
    expect((await gw({ url: `http://127.0.0.1:${originPort}/hello` }, 'wrong')).status).toBe(401);
  });
});
