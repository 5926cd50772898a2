import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { fakeHostPages } from '../testing/fakeHostPage';
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
let srv: Awaited<ReturnType<typeof startServer>>;

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
  srv = await startServer(
    { API_KEY: KEY, HEADLESS: 'auto', HOST: '127.0.0.1', CHROMIUM_PATH: chromium },
    { next: await fakeHostPages() },
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
