import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { call, type Json } from '../testing/http';

/**
 * Attacker tests for per-user API tokens (issue 9, hole 1): a free account's token reaches only the
 * rooms its user manages (instructor or owner), never open rooms made by anybody, nor their
 * commands: no listing, no reading, no cancelling.
 */
const KEY = 'scope-key-0123456789';
type Srv = Awaited<ReturnType<typeof startServer>>;
let srv: Srv;
let owner: Awaited<ReturnType<typeof signUp>>;
let attacker: Awaited<ReturnType<typeof signUp>>;
let ownerToken: string;
let attackerToken: string;
let privateRoom: string;
let openRoom: string;
let openCmd: string;
let privateCmd: string;

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
async function token(cookie: string): Promise<string> {
  const r = await as(srv, cookie, '/api/me/tokens', { method: 'POST', json: { name: 'script' } });
  expect(r.status, r.text).toBe(201);
  return r.json.token;
}

beforeAll(async () => {
  srv = await startServer({ API_KEY: KEY, HEADLESS: 'off' });
  owner = await signUp(srv, 'Owen Owner');
  attacker = await signUp(srv, 'Mallory');
  privateRoom = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Class' } })).json.room.id;
  // An anonymous (open) room, as a signed-out visitor makes one.
  const made = await fetch(`${srv.url}/rooms/new`, { method: 'POST', body: 'name=secret+link', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  openRoom = made.headers.get('location')!.split('/').pop()!;
  ownerToken = await token(owner.cookie);
  attackerToken = await token(attacker.cookie);
  // Commands nobody hosts: they stay queued.
  openCmd = (await call(srv, `/api/rooms/${openRoom}/commands?wait=false`, { method: 'POST', json: { cmd: 'echo the open room secret' }, headers: bearer(KEY) })).json.id;
  privateCmd = (await call(srv, `/api/rooms/${privateRoom}/commands?wait=false`, { method: 'POST', json: { cmd: 'echo class secret' }, headers: bearer(KEY) })).json.id;
});
afterAll(async () => {
  await srv?.close();
});

describe('API token scope (attacker)', () => {
  it('a stranger’s token lists no room it is not a member of: not open rooms, not the default room', async () => {
    const r = await call(srv, '/api/rooms', { headers: bearer(attackerToken) });
    expect(r.status).toBe(200);
    expect(r.json.rooms).toEqual([]);
    for (const room of [openRoom, privateRoom, 'default']) expect((await call(srv, `/api/rooms/${room}`, { headers: bearer(attackerToken) })).status).toBe(404);
  });

  it('a stranger’s token reads no command of another room: not in lists, not by id, not by long poll', async () => {
    const list = await call(srv, '/api?limit=100', { headers: bearer(attackerToken) });
    expect(list.status).toBe(200);
    expect(list.json.commands).toEqual([]);
    for (const room of [openRoom, privateRoom, 'default'])
      expect((await call(srv, `/api/rooms/${room}/commands`, { headers: bearer(attackerToken) })).status).toBe(404);
    for (const id of [openCmd, privateCmd]) {
      expect((await call(srv, `/api/commands/${id}`, { headers: bearer(attackerToken) })).status).toBe(404);
      expect((await call(srv, `/api?commandId=${id}`, { headers: bearer(attackerToken) })).status).toBe(404);
      expect((await call(srv, `/api/commands/${id}?wait=true&waitMs=100`, { headers: bearer(attackerToken) })).status).toBe(404);
    }
  });

  it('a stranger’s token cancels nothing and pushes nothing outside its rooms', async () => {
    for (const id of [openCmd, privateCmd]) {
      expect((await call(srv, `/api/commands/${id}`, { method: 'DELETE', headers: bearer(attackerToken) })).status).toBe(404);
      expect((await call(srv, `/api/commands/${id}/cancel`, { method: 'POST', headers: bearer(attackerToken) })).status).toBe(404);
      expect((await call(srv, `/api/commands/${id}`, { headers: bearer(KEY) })).json.state).toBe('queued');
    }
    for (const room of [openRoom, 'default']) {
      const r = await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: 'id' }, headers: bearer(attackerToken) });
      expect([r.status, r.json.error.code]).toEqual([404, 'ROOM_NOT_FOUND']);
    }
    // The seed dialect defaults to the open `default` room: out of a token's reach too.
    expect((await call(srv, '/api?wait=false', { method: 'POST', json: { cmd: 'id' }, headers: bearer(attackerToken) })).status).toBe(404);
    const batch = await call(srv, '/api/commands/batch?wait=false', { method: 'POST', json: { rooms: [openRoom, privateRoom], cmd: 'id' }, headers: bearer(attackerToken) });
    expect(batch.json.results.map((x: Json) => x.error?.code)).toEqual(['ROOM_NOT_FOUND', 'ROOM_NOT_FOUND']);
  });

  it('the owner’s token sees its own room and commands, even behind many newer open rooms', async () => {
    for (let i = 0; i < 5; i++) srv.server.rooms.create(`newer ${i}`);
    const rooms = await call(srv, '/api/rooms?limit=2', { headers: bearer(ownerToken) });
    expect(rooms.json.rooms.map((r: Json) => r.id)).toEqual([privateRoom]);
    const list = await call(srv, '/api?limit=1', { headers: bearer(ownerToken) });
    expect(list.json.commands.map((c: Json) => c.id)).toEqual([privateCmd]);
    expect((await call(srv, `/api/commands/${privateCmd}`, { headers: bearer(ownerToken) })).json.cmd).toBe('echo class secret');
    expect((await call(srv, `/api/commands/${openCmd}`, { headers: bearer(ownerToken) })).status).toBe(404);
  });

  it('a member below instructor reaches nothing; the server’s API key still reaches every room', async () => {
    const inv = await as(srv, owner.cookie, `/api/rooms/${privateRoom}/invites`, { method: 'POST', json: { role: 'driver' } });
    await as(srv, attacker.cookie, `/api/invites/${inv.json.token}/redeem`, { method: 'POST', json: {} });
    expect((await call(srv, '/api/rooms', { headers: bearer(attackerToken) })).json.rooms).toEqual([]);
    expect((await call(srv, `/api/commands/${privateCmd}`, { headers: bearer(attackerToken) })).status).toBe(404);
    const all = await call(srv, '/api/rooms?limit=1000', { headers: bearer(KEY) });
    expect(all.json.rooms.map((r: Json) => r.id)).toEqual(expect.arrayContaining([openRoom, privateRoom, 'default']));
  });
});

describe('archived rooms', () => {
  it('take no new commands, from a token or the API key; reading old ones still works', async () => {
    const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Last term' } })).json.room.id;
    const old = (await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: 'true' }, headers: bearer(ownerToken) })).json.id;
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { archived: true } })).status).toBe(200);
    for (const auth of [ownerToken, KEY]) {
      const r = await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: 'id' }, headers: bearer(auth) });
      expect([r.status, r.json.error.code]).toEqual([403, 'FORBIDDEN']);
      const b = await call(srv, '/api/commands/batch?wait=false', { method: 'POST', json: { rooms: [room], cmd: 'id' }, headers: bearer(auth) });
      expect(b.json.results[0].error.code).toBe('FORBIDDEN');
    }
    const read = await call(srv, `/api/rooms/${room}/commands/${old}`, { headers: bearer(ownerToken) });
    expect([read.status, read.json.state]).toEqual([200, 'cancelled']);
  });

  it('cancel the commands still queued, saying why, and answer a long poll waiting on one; unarchived, the room takes commands again', async () => {
    const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Archived mid-queue' } })).json.room.id;
    const ids: string[] = [];
    for (const cmd of ['echo first', 'echo second']) {
      const r = await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd }, headers: bearer(ownerToken) });
      expect([r.status, r.json.state]).toEqual([202, 'queued']);
      ids.push(r.json.id);
    }
    const t0 = Date.now();
    const waiting = call(srv, `/api/rooms/${room}/commands/${ids[0]}?wait=true&waitMs=20000`, { headers: bearer(ownerToken) });
    await new Promise((r) => setTimeout(r, 200)); // the long poll is waiting
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { archived: true } })).status).toBe(200);
    const answered = await waiting;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect([answered.status, answered.json.state, answered.json.error]).toEqual([200, 'cancelled', 'cancelled before it ran: the room was archived']);
    const list = await call(srv, `/api/rooms/${room}/commands`, { headers: bearer(ownerToken) });
    expect(list.json.commands.map((c: Json) => [c.id, c.state]).sort()).toEqual(ids.map((id) => [id, 'cancelled']).sort());
    // Unarchiving does not bring them back; new commands queue again.
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { archived: false } })).status).toBe(200);
    expect((await call(srv, `/api/rooms/${room}/commands/${ids[1]}`, { headers: bearer(ownerToken) })).json.state).toBe('cancelled');
    const again = await call(srv, `/api/rooms/${room}/commands?wait=false`, { method: 'POST', json: { cmd: 'echo back' }, headers: bearer(ownerToken) });
    expect([again.status, again.json.state]).toEqual([202, 'queued']);
  });
});
