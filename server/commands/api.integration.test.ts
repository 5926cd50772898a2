import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextWhere, startServer } from '../testing/startServer';
import { hostFakeShell, type FakeShell } from '../testing/FakeShell';
import { call, type Json } from '../testing/http';

const KEY = 'test-key-0123456789';
type Srv = Awaited<ReturnType<typeof startServer>>;

const post = (srv: Srv, json: unknown, query = '', headers: Record<string, string> = {}) =>
  call(srv, `/api?api_key=${KEY}${query}`, { method: 'POST', json, headers });

/**
 * Connects a host peer whose VM is a fake ash at its prompt. After a restart the previous host's
 * page keeps its seat for HOST_SEAT_KEPT_MS: a new page gets it when that runs out.
 */
async function fakeHost(srv: Srv, room: string): Promise<FakeShell> {
  const host = await srv.client(room);
  expect((await nextWhere(host, 'room:state', (s) => s.seat === 'host', 10_000)).seat).toBe('host');
  return hostFakeShell(host);
}

let srv: Srv;
let shell: FakeShell;
beforeAll(async () => {
  srv = await startServer({ API_KEY: KEY });
  shell = await fakeHost(srv, 'default');
});
afterAll(async () => {
  await srv?.close();
});

describe('POST /api (seed dialect)', () => {
  it('runs a command and answers with its output and exit code', async () => {
    const r = await post(srv, { cmd: 'echo $((6*7))' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.json).toMatchObject({ success: true, status: 'completed', state: 'done', exitCode: 0, output: '42\n', error: null, room: 'default' });
    expect(r.json.commandId).toBe(r.json.id);
  });

  it('reports a non-zero exit as status error with the exit code', async () => {
    const r = await post(srv, { cmd: '(exit 3)' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, status: 'error', state: 'done', exitCode: 3, output: '' });
  });

  it('takes the key as Bearer or x-api-key, and the command as ?cmd=', async () => {
    const bearer = await call(srv, '/api', { method: 'POST', json: { cmd: 'echo bearer' }, headers: { authorization: `Bearer ${KEY}` } });
    expect(bearer.json).toMatchObject({ status: 'completed', output: 'bearer\n' });
    const header = await call(srv, `/api?cmd=${encodeURIComponent('echo query')}`, { method: 'POST', headers: { 'x-api-key': KEY } });
    expect(header.json).toMatchObject({ status: 'completed', output: 'query\n' });
  });

  it('runs several commands one at a time, in the order they came', async () => {
    const cmds = ['sleep 0.2', 'echo one', 'echo two', 'echo three'];
    const ids: string[] = [];
    for (const cmd of cmds) {
      const r = await post(srv, { cmd }, '&wait=false');
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    const results = await Promise.all(ids.map((id) => call(srv, `/api/commands/${id}?wait=true&api_key=${KEY}`)));
    expect(results.map((r) => r.json.output)).toEqual(['', 'one\n', 'two\n', 'three\n']);
    for (let i = 1; i < results.length; i++)
      expect(Date.parse(results[i].json.startedAt)).toBeGreaterThanOrEqual(Date.parse(results[i - 1].json.finishedAt));
    expect(shell.executed.slice(-4)).toEqual(cmds);
  });

  it('times a command out with Ctrl-C and records timeout', async () => {
    const t0 = Date.now();
    const r = await post(srv, { cmd: 'sleep 5', timeoutMs: 300 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'error', state: 'timeout', exitCode: 130, error: 'timed out after 300 ms' });
    expect(Date.now() - t0).toBeLessThan(4500); // stopped, not left to sleep its 5 s
    expect((await post(srv, { cmd: 'echo alive' })).json.output).toBe('alive\n');
  });

  it('makes retries safe with Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'retry-me-1' };
    const a = await post(srv, { cmd: 'echo idem' }, '', headers);
    const b = await post(srv, { cmd: 'echo idem' }, '', headers);
    expect(b.status).toBe(200);
    expect(b.json.id).toBe(a.json.id);
    expect(b.json.output).toBe('idem\n');
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(shell.executed.filter((l) => l === 'echo idem')).toHaveLength(1);
    const other = await post(srv, { cmd: 'echo different' }, '', headers);
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('CONFLICT');
  });

  it('answers 202 when not waiting, then GET /api/commands/:id and GET /api?commandId= give the result', async () => {
    const r = await post(srv, { cmd: 'sleep 0.3' }, '&wait=false');
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ success: true, status: expect.stringMatching(/^(pending|running)$/), message: expect.any(String) });
    const id = r.json.commandId;
    const early = await call(srv, `/api/commands/${id}?api_key=${KEY}`);
    expect(early.status).toBe(202);
    const done = await call(srv, `/api/commands/${id}?wait=true`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ id, status: 'completed', state: 'done', exitCode: 0 });
    const seed = await call(srv, `/api?commandId=${id}&api_key=${KEY}`);
    expect(seed.status).toBe(200);
    expect(seed.json).toEqual(done.json);
  });

  it('lists recent commands, newest first, without their output', async () => {
    const mine = (await post(srv, { cmd: 'echo listed' })).json.id;
    const r = await call(srv, `/api?api_key=${KEY}&limit=5`);
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    expect(r.json.commands).toHaveLength(5);
    expect(r.json.commands[0]).toMatchObject({ id: mine, status: 'completed' });
    expect(r.json.commands[0].output).toBeUndefined();
  });

  it('cancels a queued command and a running one', async () => {
    const running = (await post(srv, { cmd: 'sleep 5' }, '&wait=false')).json.id;
    const queued = (await post(srv, { cmd: 'echo never' }, '&wait=false')).json.id;
    const c1 = await call(srv, `/api/commands/${queued}/cancel?api_key=${KEY}`, { method: 'POST' });
    expect(c1.status).toBe(200);
    expect(c1.json).toMatchObject({ state: 'cancelled', status: 'error' });
    await new Promise((r) => setTimeout(r, 50));
    const c2 = await call(srv, `/api/commands/${running}?api_key=${KEY}`, { method: 'DELETE' });
    expect(c2.status).toBe(200);
    expect(c2.json).toMatchObject({ state: 'cancelled', exitCode: 130 });
    const again = await call(srv, `/api/commands/${running}?api_key=${KEY}`, { method: 'DELETE' });
    expect(again.status).toBe(200);
    const finishedOne = (await post(srv, { cmd: 'echo fin' })).json.id;
    const late = await call(srv, `/api/commands/${finishedOne}?api_key=${KEY}`, { method: 'DELETE' });
    expect(late.status).toBe(409);
    expect(shell.executed).not.toContain('echo never');
  });

  it('queues for a room without a host and runs when one arrives', async () => {
    const room = srv.server.rooms.create('later').id;
    const r = await post(srv, { cmd: 'echo hosted', room }, '&wait=false');
    expect(r.status).toBe(202);
    expect(r.json.status).toBe('pending');
    const waiting = call(srv, `/api/commands/${r.json.id}?wait=true&api_key=${KEY}`);
    const lateShell = await fakeHost(srv, room);
    expect((await waiting).json).toMatchObject({ status: 'completed', output: 'hosted\n', room });
    expect(lateShell.executed).toEqual(['echo hosted']);
  });
});

describe('errors', () => {
  it('401 without or with a wrong key; the OpenAPI document needs none', async () => {
    for (const p of ['/api', '/api?api_key=nope', `/api?api_key=${KEY.slice(0, -1)}`]) {
      const r = await call(srv, p, { method: 'POST', json: { cmd: 'echo x' } });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call(srv, '/api', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await call(srv, '/api/commands/x')).status).toBe(401);
    const doc = await call(srv, '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.1.0');
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/api', '/api/commands/{id}', '/api/commands/{id}/cancel']));
  });

  it('400 for malformed JSON, a missing or non-string cmd, a bad timeout; 413 for oversized', async () => {
    const malformed = await call(srv, `/api?api_key=${KEY}`, { method: 'POST', body: '{"cmd": "echo', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({ code: 'BAD_MESSAGE', message: expect.stringMatching(/JSON/) });
    for (const body of [{}, { cmd: '' }, { cmd: 42 }, { cmd: 'ls', timeoutMs: 'soon' }, { cmd: 'ls', timeoutMs: 11 * 60_000 }]) {
      const r = await post(srv, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('BAD_MESSAGE');
    }
    expect((await post(srv, [1, 2])).status).toBe(400);
    const bigCmd = await post(srv, { cmd: 'x'.repeat(20 * 1024) });
    expect(bigCmd.status).toBe(413);
    expect(bigCmd.json.error.code).toBe('TOO_LARGE');
    const bigBody = await post(srv, { cmd: 'echo', pad: 'y'.repeat(100 * 1024) });
    expect(bigBody.status).toBe(413);
  });

  it('404 for an unknown room, 400 for a malformed room id; 405 for other methods', async () => {
    const r = await post(srv, { cmd: 'echo x', room: 'no-such-room' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('ROOM_NOT_FOUND');
    expect((await post(srv, { cmd: 'echo x', room: '../etc' })).json.error.code).toBe('BAD_ROOM_ID');
    const put = await call(srv, `/api?api_key=${KEY}`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.json.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('503 with API_KEY unset', async () => {
    const off = await startServer();
    try {
      const r = await call(off, '/api?api_key=anything', { method: 'POST', json: { cmd: 'echo x' } });
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('UNAVAILABLE');
    } finally {
      await off.close();
    }
  });

  it('attacker: other rooms’ ids through room-scoped look-ups, junk ids', async () => {
    const other = srv.server.rooms.create('other').id;
    const theirs = (await post(srv, { cmd: 'echo secret', room: other }, '&wait=false')).json.id;
    for (const p of [`/api/commands/${theirs}?room=default`, `/api?commandId=${theirs}&room=default`]) {
      const r = await call(srv, `${p}&api_key=${KEY}`);
      expect(r.status, p).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
    expect((await call(srv, `/api/commands/${theirs}?room=default&api_key=${KEY}`, { method: 'DELETE' })).status).toBe(404);
    const junk = [
      `/api/commands/${encodeURIComponent("1' OR '1'='1")}`,
      `/api/commands/${encodeURIComponent('%')}`,
      '/api/commands/..%2F..%2Fetc%2Fpasswd',
      `/api?commandId=${encodeURIComponent("' OR 1=1; DROP TABLE commands; --")}`,
      `/api/commands/${theirs.toUpperCase()}`,
      '/api/commands/',
      '/api/commands/a/b',
    ];
    for (const p of junk) {
      const r = await call(srv, `${p}${p.includes('?') ? '&' : '?'}api_key=${KEY}`);
      expect(r.status, p).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
    // A malformed %-escape is a 400 before any route runs.
    const malformed = await call(srv, `/api/commands/%E0%A4%A?api_key=${KEY}`);
    expect([malformed.status, malformed.json.error.code]).toEqual([400, 'BAD_MESSAGE']);
    // Still intact after all that.
    expect((await call(srv, `/api/commands/${theirs}?api_key=${KEY}`)).json.id).toBe(theirs);
  });
});

describe('restart', () => {
  it('keeps queued commands, marks a running one interrupted and never runs it again', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-restart-'));
    try {
      const first = await startServer({ API_KEY: KEY }, { dataDir });
      const room = first.server.rooms.create('restart').id;
      const firstShell = await fakeHost(first, room);
      const running = await post(first, { cmd: 'sleep 30', room, timeoutMs: 60_000 }, '&wait=false');
      const queued1 = await post(first, { cmd: 'echo kept-1', room }, '&wait=false');
      const queued2 = await post(first, { cmd: 'echo kept-2', room }, '&wait=false');
      await new Promise((r) => setTimeout(r, 100));
      expect((await call(first, `/api/commands/${running.json.id}?api_key=${KEY}`)).json.status).toBe('running');
      expect(firstShell.executed).toEqual(['sleep 30']);
      await first.close();

      const second = await startServer({ API_KEY: KEY }, { dataDir });
      try {
        const was = await call(second, `/api/commands/${running.json.id}?api_key=${KEY}`);
        expect(was.status).toBe(200);
        expect(was.json).toMatchObject({ state: 'interrupted', status: 'error' });
        const q = await call(second, `/api/commands/${queued1.json.id}?api_key=${KEY}`);
        expect(q.status).toBe(202);
        expect(q.json.status).toBe('pending');
        const secondShell = await fakeHost(second, room);
        const r1 = await call(second, `/api/commands/${queued1.json.id}?wait=true&api_key=${KEY}`);
        const r2 = await call(second, `/api/commands/${queued2.json.id}?wait=true&api_key=${KEY}`);
        expect([r1.json.output, r2.json.output]).toEqual(['kept-1\n', 'kept-2\n']);
        expect(secondShell.executed).toEqual(['echo kept-1', 'echo kept-2']);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
