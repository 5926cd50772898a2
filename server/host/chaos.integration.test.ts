import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { call, type Json } from '../testing/http';
import { findChromium } from './findChromium';

/**
 * Chaos: the headless host's browser dies in the middle of a command. The real HeadlessHostPool
 * runs a real Chromium; the page it opens is a stand-in for the VM (the tests' FakeShell, bundled
 * for the browser, hosting over the real Socket.IO protocol). The command ends `interrupted`, a
 * new browser starts for the next command, and that command runs. Heavy: run it under
 * `flock /tmp/heavy.lock`.
 */
const KEY = 'chaos-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const chromium = findChromium();
const here = path.dirname(fileURLToPath(import.meta.url));
let srv: Awaited<ReturnType<typeof startServer>>;

/** The host page: connects with the host token from the URL and answers as a shell. */
const PAGE_SCRIPT = `
import { io } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../../lib/shared/protocol';
import { hostFakeShell } from '../testing/FakeShell';
const room = location.pathname.split('/').pop();
const hostToken = new URLSearchParams(location.hash.slice(1)).get('host') ?? undefined;
const s = io({ path: '/socket.io', transports: ['websocket'], auth: { v: PROTOCOL_VERSION, room, clientId: 'headless-' + Math.random().toString(36).slice(2, 12), wantHost: true, hostToken } });
s.once('room:state', (st) => { if (st.seat === 'host') hostFakeShell(s); });
`;

/** Chromium processes started by this process (the pool's browser), the main one first. */
function browserPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /chrom/i.test(l) && !/--type=/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

beforeAll(async () => {
  if (!chromium) return;
  const bundle = await build({ stdin: { contents: PAGE_SCRIPT, resolveDir: here, loader: 'ts' }, bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent' });
  const html = `<!doctype html><title>host</title><script>${bundle.outputFiles[0].text.replace(/<\/script/g, '<\\/script')}</script>`;
  srv = await startServer(
    { API_KEY: KEY, HEADLESS: 'auto', HOST: '127.0.0.1', CHROMIUM_PATH: chromium },
    {
      next: (req, res) => {
        if (!req.url?.startsWith('/r/')) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      },
    },
  );
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

const run = (room: string, cmd: string, wait = true) =>
  call(srv, `/api/rooms/${room}/commands${wait ? '' : '?wait=false'}`, { method: 'POST', json: { cmd, timeoutMs: 60_000 }, headers: auth });
async function until(id: string, ok: (row: Json) => boolean, ms: number): Promise<Json> {
  const end = Date.now() + ms;
  for (;;) {
    const row = (await call(srv, `/api/commands/${id}`, { headers: auth })).json;
    if (ok(row) || Date.now() > end) return row;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!chromium)('headless host browser killed mid-command (chaos)', () => {
  it('the command ends interrupted, a new host starts, and the next command runs', async () => {
    const room = srv.server.rooms.create('chaos host').id;
    const first = await run(room, 'echo $((6*7))');
    expect(first.json, first.text).toMatchObject({ state: 'done', exitCode: 0, output: '42\n' });
    const [pid] = browserPids();
    expect(pid).toBeGreaterThan(0);

    const long = await run(room, 'sleep 30', false);
    expect((await until(long.json.id, (r) => r.state === 'running', 10_000)).state).toBe('running');
    process.kill(pid, 'SIGKILL');
    const ended = await until(long.json.id, (r) => r.state !== 'running', 15_000);
    expect(ended).toMatchObject({ state: 'interrupted', status: 'error' });

    const next = await run(room, 'echo back');
    expect(next.json, next.text).toMatchObject({ state: 'done', exitCode: 0, output: 'back\n' });
    const [newPid] = browserPids();
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
    expect(srv.server.headless()?.rooms).toEqual([room]);
  }, 120_000);
});
