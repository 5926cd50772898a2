import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { next, startServer } from '../testing/startServer';
import { hostFakeShell, type FakeShell } from '../testing/FakeShell';
import { call, type Json } from '../testing/http';
import { MAX_BATCH_ROOMS } from './apiCaps';

/**
 * The instructor endpoints: GET /api/rooms, /api/rooms/:id/commands[/:cid] and
 * POST /api/commands/batch, against a real server whose rooms are hosted by FakeShell peers.
 */
const KEY = 'instructor-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
type Srv = Awaited<ReturnType<typeof startServer>>;

const get = (srv: Srv, p: string) => call(srv, p, { headers: AUTH });
const post = (srv: Srv, p: string, json: unknown, headers: Record<string, string> = {}) => call(srv, p, { method: 'POST', json, headers: { ...AUTH, ...headers } });

async function fakeHost(srv: Srv, room: string): Promise<FakeShell> {
  const host = await srv.client(room);
  expect((await next(host, 'room:state')).seat).toBe('host');
  return hostFakeShell(host);
}

let srv: Srv;
let roomA: string;
let roomB: string;
let roomC: string;
/** A room nobody hosts: its commands stay queued. */
let idle: string;
const shells: Record<string, FakeShell> = {};

beforeAll(async () => {
  // HEADLESS off: a room without a host must not start a browser in unit-test land.
  srv = await startServer({ API_KEY: KEY, HEADLESS: 'off' });
  roomA = srv.server.rooms.create('Room A').id;
  roomB = srv.server.rooms.create('Room B').id;
  roomC = srv.server.rooms.create('Room C').id;
  idle = srv.server.rooms.create('Nobody hosts').id;
  for (const r of [roomA, roomB, roomC]) shells[r] = await fakeHost(srv, r);
});
afterAll(async () => {
  await srv?.close();
});

describe('GET /api/rooms', () => {
  it('lists rooms newest first with whether a host is connected', async () => {
    const r = await get(srv, '/api/rooms');
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    const byId = new Map<string, Json>(r.json.rooms.map((room: Json) => [room.id, room]));
    expect(byId.get(roomA)).toEqual({ id: roomA, name: 'Room A', createdAt: expect.any(String), hostConnected: true });
    expect(byId.get(idle)).toMatchObject({ name: 'Nobody hosts', hostConnected: false });
    expect(byId.get('default')).toMatchObject({ hostConnected: false });
    const ids = r.json.rooms.map((room: Json) => room.id);
    expect(ids.indexOf(idle)).toBeLessThan(ids.indexOf(roomA));
    expect((await get(srv, '/api/rooms?limit=2')).json.rooms).toHaveLength(2);
    expect((await get(srv, '/api/rooms?limit=0')).status).toBe(400);
  });

  it('shows one room; an unknown one is 404, a malformed id 400', async () => {
    const r = await get(srv, `/api/rooms/${roomB}`);
    expect(r.status).toBe(200);
    expect(r.json.room).toMatchObject({ id: roomB, name: 'Room B', hostConnected: true });
    expect((await get(srv, '/api/rooms/no-such-room')).json.error.code).toBe('ROOM_NOT_FOUND');
    const bad = await get(srv, '/api/rooms/NOT_A_ROOM');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('BAD_ROOM_ID');
  });
});

describe('/api/rooms/:id/commands', () => {
  it('runs a command in the room named by the path', async () => {
    const r = await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo $((6*7))' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, status: 'completed', state: 'done', exitCode: 0, output: '42\n', room: roomA, error: null });
    expect(shells[roomA].executed.at(-1)).toBe('echo $((6*7))');
    expect(shells[roomB].executed).not.toContain('echo $((6*7))');
  });

  it('answers 202 with ?wait=false; GET …/commands/:cid?wait=true long-polls for the result', async () => {
    const r = await post(srv, `/api/rooms/${roomB}/commands?wait=false`, { cmd: 'sleep 0.3', timeoutMs: 5000 });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ room: roomB, status: expect.stringMatching(/^(pending|running)$/) });
    const early = await get(srv, `/api/rooms/${roomB}/commands/${r.json.id}`);
    expect(early.status).toBe(202);
    const done = await get(srv, `/api/rooms/${roomB}/commands/${r.json.id}?wait=true`);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ id: r.json.id, state: 'done', exitCode: 0, output: '' });
    // The seed's URL gives the same.
    expect((await get(srv, `/api/commands/${r.json.id}`)).json).toEqual(done.json);
  });

  it('?waitMs= shortens a long poll; out of range is 400', async () => {
    const r = await post(srv, `/api/rooms/${roomC}/commands?wait=false`, { cmd: 'sleep 2' });
    // A 2 s command still unfinished when the poll answers: the short wait was honoured.
    const polled = await get(srv, `/api/rooms/${roomC}/commands/${r.json.id}?wait=true&waitMs=200`);
    expect(polled.status).toBe(202);
    expect(polled.json.status).toMatch(/^(pending|running)$/);
    expect((await get(srv, `/api/rooms/${roomC}/commands/${r.json.id}?wait=true&waitMs=5`)).status).toBe(400);
    expect((await get(srv, `/api/rooms/${roomC}/commands/${r.json.id}?wait=true&waitMs=soon`)).status).toBe(400);
    const cancelled = await call(srv, `/api/rooms/${roomC}/commands/${r.json.id}`, { method: 'DELETE', headers: AUTH });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ state: 'cancelled', exitCode: 130 });
  });

  it('makes retries safe with Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'room-retry-1' };
    const a = await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo once' }, headers);
    const b = await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo once' }, headers);
    expect(b.json.id).toBe(a.json.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(shells[roomA].executed.filter((l) => l === 'echo once')).toHaveLength(1);
    expect((await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo twice' }, headers)).status).toBe(409);
  });

  it('lists the room’s own commands only', async () => {
    await post(srv, `/api/rooms/${roomB}/commands`, { cmd: 'echo b-listed' });
    const r = await get(srv, `/api/rooms/${roomB}/commands?limit=100`);
    expect(r.status).toBe(200);
    expect(r.json.commands.length).toBeGreaterThan(0);
    expect(r.json.commands.every((c: Json) => c.room === roomB)).toBe(true);
    expect(r.json.commands[0]).toMatchObject({ cmd: 'echo b-listed', state: 'done' });
    expect(r.json.commands[0].output).toBeUndefined();
  });

  it('rejects a body whose room differs from the path, a missing cmd, malformed and oversized bodies', async () => {
    const other = await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo x', room: roomB });
    expect(other.status).toBe(400);
    expect(other.json.error.code).toBe('BAD_MESSAGE');
    expect((await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo same', room: roomA })).json.output).toBe('same\n');
    for (const body of [{}, { cmd: '' }, { cmd: ['echo'] }, { cmd: 'ls', timeoutMs: -1 }]) {
      const r = await post(srv, `/api/rooms/${roomA}/commands`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('BAD_MESSAGE');
    }
    const malformed = await call(srv, `/api/rooms/${roomA}/commands`, { method: 'POST', body: '{"cmd":', headers: { ...AUTH, 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.message).toMatch(/JSON/);
    expect((await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'x'.repeat(17 * 1024) })).status).toBe(413);
    expect((await post(srv, `/api/rooms/${roomA}/commands`, { cmd: 'echo', pad: 'y'.repeat(70 * 1024) })).status).toBe(413);
    const unknown = await post(srv, '/api/rooms/no-such-room/commands', { cmd: 'echo x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('ROOM_NOT_FOUND');
  });
});

describe('per-room isolation (attacker)', () => {
  it('a command id of room A through room B’s URL is 404, for reading, long-polling and cancelling', async () => {
    const a = await post(srv, `/api/rooms/${roomA}/commands?wait=false`, { cmd: 'sleep 0.5' });
    expect(a.status).toBe(202);
    const id = a.json.id;
    for (const p of [`/api/rooms/${roomB}/commands/${id}`, `/api/rooms/${roomB}/commands/${id}?wait=true`, `/api/rooms/${idle}/commands/${id}`]) {
      const r = await get(srv, p);
      expect(r.status, p).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
    const del = await call(srv, `/api/rooms/${roomB}/commands/${id}`, { method: 'DELETE', headers: AUTH });
    expect(del.status).toBe(404);
    // Untouched by all that: it still finishes normally in room A.
    const done = await get(srv, `/api/rooms/${roomA}/commands/${id}?wait=true`);
    expect(done.json).toMatchObject({ state: 'done', exitCode: 0 });
  });

  it('junk command and room ids are 404 / 400, never a crash', async () => {
    const junkIds = [
      encodeURIComponent("1' OR '1'='1"),
      encodeURIComponent('%'),
      '..%2F..%2Fetc%2Fpasswd',
      '00000000-0000-0000-0000-000000000000',
      'x'.repeat(300),
    ];
    for (const j of junkIds) {
      const r = await get(srv, `/api/rooms/${roomA}/commands/${j}`);
      expect(r.status, j).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
    // A malformed %-escape is a 400 before any route runs.
    expect((await get(srv, `/api/rooms/${roomA}/commands/%E0%A4%A`)).status).toBe(400);
    const junkRooms = [encodeURIComponent('../etc'), 'A'.repeat(70), encodeURIComponent("a' OR 1=1 --")];
    for (const j of junkRooms) {
      const r = await get(srv, `/api/rooms/${j}/commands`);
      expect(r.status, j).toBe(400);
      expect(r.json.error.code).toBe('BAD_ROOM_ID');
    }
    for (const p of [`/api/rooms/${roomA}/commands/a/b`, `/api/rooms/${roomA}/other`, '/api/roomsx']) {
      const r = await get(srv, p);
      expect(r.status, p).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('POST /api/commands/batch', () => {
  it('fans out to three rooms at once; an unknown room gets an error item, the rest run', async () => {
    const rooms = [roomA, 'no-such-room', roomB, roomC, 'Bad_Id'];
    const r = await post(srv, '/api/commands/batch', { rooms, cmd: 'sleep 0.6' });
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    expect(r.json.results.map((x: Json) => x.room)).toEqual(rooms);
    for (const i of [0, 2, 3]) expect(r.json.results[i]).toMatchObject({ success: true, state: 'done', status: 'completed', exitCode: 0, cmd: 'sleep 0.6' });
    expect(r.json.results[1]).toEqual({ room: 'no-such-room', success: false, error: { code: 'ROOM_NOT_FOUND', message: expect.any(String) } });
    expect(r.json.results[4].error.code).toBe('BAD_ROOM_ID');
    // In parallel, not one after another: every room's command started before any had finished.
    const ran = [0, 2, 3].map((i) => r.json.results[i]);
    const firstFinish = Math.min(...ran.map((x: Json) => Date.parse(x.finishedAt)));
    for (const x of ran) expect(Date.parse(x.startedAt)).toBeLessThan(firstFinish);
    const ids = new Set([0, 2, 3].map((i) => r.json.results[i].id));
    expect(ids.size).toBe(3);
  });

  it('returns each room’s own output', async () => {
    const r = await post(srv, '/api/commands/batch', { rooms: [roomC, roomA], cmd: 'echo $((6*7))' });
    expect(r.json.results.map((x: Json) => [x.room, x.output])).toEqual([
      [roomC, '42\n'],
      [roomA, '42\n'],
    ]);
  });

  it('?wait=false answers 202 at once; each command is then followed per room', async () => {
    const r = await post(srv, '/api/commands/batch?wait=false', { rooms: [roomA, roomB, idle], cmd: 'sleep 0.2' });
    expect(r.status).toBe(202);
    for (const item of r.json.results) expect(item.status).toMatch(/^(pending|running)$/);
    const [a, b, c] = r.json.results;
    const [ra, rb] = await Promise.all([get(srv, `/api/rooms/${roomA}/commands/${a.id}?wait=true`), get(srv, `/api/rooms/${roomB}/commands/${b.id}?wait=true`)]);
    expect([ra.json.state, rb.json.state]).toEqual(['done', 'done']);
    // Nobody hosts `idle`: its command waits in the queue, and can be cancelled there.
    const still = await get(srv, `/api/rooms/${idle}/commands/${c.id}?wait=true&waitMs=200`);
    expect(still.json).toMatchObject({ state: 'queued', status: 'pending' });
    expect((await call(srv, `/api/commands/${c.id}`, { method: 'DELETE', headers: AUTH })).json.state).toBe('cancelled');
  });

  it('one Idempotency-Key makes the whole batch safe to retry', async () => {
    const headers = { 'idempotency-key': 'class-retry-1' };
    const first = await post(srv, '/api/commands/batch', { rooms: [roomA, roomB], cmd: 'echo batch-once' }, headers);
    const second = await post(srv, '/api/commands/batch', { rooms: [roomA, roomB, roomC], cmd: 'echo batch-once' }, headers);
    expect(second.status).toBe(200);
    expect(second.json.results.slice(0, 2).map((x: Json) => x.id)).toEqual(first.json.results.map((x: Json) => x.id));
    expect(second.json.results[2]).toMatchObject({ room: roomC, state: 'done', output: 'batch-once\n' });
    for (const r of [roomA, roomB, roomC]) expect(shells[r].executed.filter((l) => l === 'echo batch-once')).toHaveLength(1);
    // Same key, different command: that room's item is a conflict, not the whole batch.
    const clash = await post(srv, '/api/commands/batch', { rooms: [roomA], cmd: 'echo other' }, headers);
    expect(clash.status).toBe(200);
    expect(clash.json.results[0].error.code).toBe('CONFLICT');
    expect((await post(srv, '/api/commands/batch', { rooms: [roomA], cmd: 'echo k' }, { 'idempotency-key': 'k'.repeat(201) })).status).toBe(400);
  });

  it('400 for malformed bodies, 413 for oversized ones', async () => {
    const bad: unknown[] = [
      {},
      { cmd: 'echo x' },
      { rooms: roomA, cmd: 'echo x' },
      { rooms: [], cmd: 'echo x' },
      { rooms: [roomA, roomA], cmd: 'echo x' },
      { rooms: [42], cmd: 'echo x' },
      { rooms: [roomA] },
      { rooms: [roomA], cmd: '   ' },
      { rooms: [roomA], cmd: 'echo x', timeoutMs: 50 },
      { rooms: Array.from({ length: MAX_BATCH_ROOMS + 1 }, (_, i) => `room-${i}`), cmd: 'echo x' },
      [roomA],
      'echo x',
      null,
    ];
    for (const body of bad) {
      const r = await post(srv, '/api/commands/batch', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('BAD_MESSAGE');
    }
    const malformed = await call(srv, '/api/commands/batch', { method: 'POST', body: '{"rooms":[', headers: { ...AUTH, 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    const bigCmd = await post(srv, '/api/commands/batch', { rooms: [roomA], cmd: 'x'.repeat(17 * 1024) });
    expect(bigCmd.status).toBe(413);
    const bigBody = await post(srv, '/api/commands/batch', { rooms: [roomA], cmd: 'echo', pad: 'y'.repeat(70 * 1024) });
    expect(bigBody.status).toBe(413);
    expect(bigBody.json.error.code).toBe('TOO_LARGE');
    // Exactly the limit is fine (unknown rooms are error items).
    const max = await post(srv, '/api/commands/batch?wait=false', { rooms: Array.from({ length: MAX_BATCH_ROOMS }, (_, i) => `nope-${i}`), cmd: 'echo x' });
    expect(max.status).toBe(200);
    expect(max.json.results.every((x: Json) => x.error?.code === 'ROOM_NOT_FOUND')).toBe(true);
    // Nothing of that ran anywhere.
    for (const r of [roomA, roomB, roomC]) expect(shells[r].executed).not.toContain('echo x');
  });

  it('405 for other methods', async () => {
    const r = await get(srv, '/api/commands/batch');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect((await call(srv, '/api/rooms', { method: 'POST', headers: AUTH })).status).toBe(405);
    expect((await call(srv, `/api/rooms/${roomA}/commands`, { method: 'PUT', headers: AUTH })).status).toBe(405);
  });
});

describe('auth', () => {
  const endpoints = (room: string): [string, string, unknown?][] => [
    ['GET', '/api/rooms'],
    ['GET', `/api/rooms/${room}`],
    ['GET', `/api/rooms/${room}/commands`],
    ['POST', `/api/rooms/${room}/commands`, { cmd: 'echo sneaky' }],
    ['GET', `/api/rooms/${room}/commands/00000000-0000-4000-8000-000000000000?wait=true`],
    ['DELETE', `/api/rooms/${room}/commands/00000000-0000-4000-8000-000000000000`],
    ['POST', '/api/commands/batch', { rooms: [room], cmd: 'echo sneaky' }],
  ];

  it('401 without a key or with a wrong one, on every instructor endpoint', async () => {
    for (const [method, p, json] of endpoints(roomA)) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': KEY.slice(1) }, { authorization: `Basic ${KEY}` }] as Record<string, string>[]) {
        const r = await call(srv, p, { method, json, headers });
        expect(r.status, `${method} ${p} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.json.error.code).toBe('UNAUTHORIZED');
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
      const q = await call(srv, `${p}${p.includes('?') ? '&' : '?'}api_key=nope`, { method, json });
      expect(q.status).toBe(401);
    }
    for (const r of [roomA, roomB, roomC]) expect(shells[r].executed).not.toContain('echo sneaky');
    // The key works the three ways.
    expect((await call(srv, `/api/rooms?api_key=${KEY}`)).status).toBe(200);
    expect((await call(srv, '/api/rooms', { headers: { 'x-api-key': KEY } })).status).toBe(200);
  });

  it('503 on every instructor endpoint with API_KEY unset', async () => {
    const off = await startServer({ HEADLESS: 'off' });
    try {
      for (const [method, p, json] of endpoints('default')) {
        const r = await call(off, p, { method, json, headers: { authorization: 'Bearer anything' } });
        expect(r.status, `${method} ${p}`).toBe(503);
        expect(r.json.error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/API_KEY/) });
      }
    } finally {
      await off.close();
    }
  });
});

describe('OpenAPI', () => {
  it('documents the instructor endpoints', async () => {
    const doc = await call(srv, '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/api/rooms', '/api/rooms/{id}', '/api/rooms/{id}/commands', '/api/rooms/{id}/commands/{commandId}', '/api/commands/batch']),
    );
    expect(doc.json.paths['/api/commands/batch'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/BatchRequest');
    // Every $ref resolves.
    const refs = [...doc.text.matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) {
      let node: Json = doc.json;
      for (const part of ref.split('/')) node = node?.[part];
      expect(node, ref).toBeDefined();
    }
  });
});
