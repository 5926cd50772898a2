import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, nextWhere } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { openRoom, page, sha, upload, vmState, type Srv } from '../testing/roomStateUpload';
import { MAX_PACK_BYTES, MAX_STATE_PAGES, ROOM_STATE_FORMAT, VM_CHUNK_BYTES, decodePack, encodePack, type RoomStateManifest } from '../../lib/shared/roomState';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-roomstate-'));
const disk = path.join(dir, 'disk.ext2');
fs.writeFileSync(disk, Buffer.alloc(0));
fs.truncateSync(disk, 4 * 1024 * 1024);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const latest = (srv: Srv, room: string, key: string) => fetch(`${srv.url}/api/rooms/${room}/state`, { headers: { 'x-host-key': key } });

describe('room state on the server', () => {
  let srv: Srv;
  beforeAll(async () => {
    srv = await startServer({ DISK_SOURCE: disk, ROOM_STATE_MAX_MB: '3' });
  });
  afterAll(() => srv.close());

  it('stores a host’s state and gives it back whole; an unchanged page is never sent twice', async () => {
    const { room, key } = await openRoom(srv);
    const vm = vmState(300_000);
    const first = await upload(srv, room, key, vm, [[1, page(1)], [2, page(2)], [7, page(7)]]);
    expect(first, JSON.stringify(first.body)).toMatchObject({ step: 'commit', status: 201, sent: 4 });
    const info = (await (await latest(srv, room, key)).json()) as { id: string; manifest: RoomStateManifest };
    expect(info.id).toBe(first.body.id);
    expect(info.manifest.pages.map((p) => p[0])).toEqual([1, 2, 7]);
    // The restoring side asks for the chunks by hash and gets exactly the bytes.
    const read = await fetch(`${srv.url}/api/rooms/${room}/state/read`, { method: 'POST', headers: { 'x-host-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ hashes: info.manifest.vm.chunks }) });
    const chunks = decodePack(new Uint8Array(await read.arrayBuffer()));
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(vm)).toBe(true);
    // Same pages, one changed, a new VM state: only the changed page and the VM piece travel.
    const second = await upload(srv, room, key, vmState(300_000), [[1, page(1)], [2, page(22)], [7, page(7)]]);
    expect(second).toMatchObject({ status: 201, sent: 2 });
    // The very same state again: nothing at all is sent.
    const third = await upload(srv, room, key, vm, [[1, page(1)], [2, page(2)], [7, page(7)]]);
    expect(third).toMatchObject({ status: 201, sent: 0 });
  });

  it('refuses a guest’s upload, and the old host’s once another has taken over', async () => {
    const { room, key, guest, host } = await openRoom(srv);
    const byGuest = await upload(srv, room, 'not-the-host-key-at-all', vmState(1000), []);
    expect(byGuest).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await fetch(`${srv.url}/api/rooms/${room}/state/missing`, { method: 'POST', body: '{"hashes":[]}' })).status).toBe(403);
    // The host leaves (its last upload still counts) …
    host.disconnect();
    await nextWhere(guest, 'room:state', (s) => !s.hostConnected);
    expect(await upload(srv, room, key, vmState(1000), [])).toMatchObject({ status: 201 });
    // … then the guest takes over: the old key no longer uploads, the new one does.
    guest.emit('host:take', {});
    const st = await nextWhere(guest, 'room:state', (s) => s.seat === 'host');
    expect(st.hostKey).toBeTruthy();
    expect(await upload(srv, room, key, vmState(1000), [])).toMatchObject({ status: 403 });
    expect(await upload(srv, room, st.hostKey!, vmState(1000), [])).toMatchObject({ status: 201 });
  });

  it('refuses corrupt, foreign, truncated and other-version states, storing nothing', async () => {
    const { room, key } = await openRoom(srv);
    const good = vmState(5000);
    const cases: [string, Buffer, Partial<RoomStateManifest>, number, string][] = [
      ['truncated VM state', good.subarray(0, good.length - 40), {}, 400, 'STATE_CORRUPT'],
      ['foreign (not v86)', vmState(5000, 0x12345678), {}, 400, 'STATE_CORRUPT'],
      ['not gzip', crypto.randomBytes(5000), {}, 400, 'STATE_CORRUPT'],
      ['another guest version', good, { guestVersion: '0123456789abcdef' }, 409, 'STATE_VERSION'],
      ['another disk', good, { diskVersion: 'deadbeef' }, 409, 'STATE_VERSION'],
      ['bad format', good, { format: 'something-else' as typeof ROOM_STATE_FORMAT }, 400, 'STATE_CORRUPT'],
    ];
    for (const [what, vm, over, status, code] of cases) {
      const r = await upload(srv, room, key, vm, [[3, page(3)]], over);
      expect(r, what).toMatchObject({ step: 'commit', status, body: { error: { code } } });
    }
    // A page past the disk's end, and a manifest naming chunks never sent.
    expect(await upload(srv, room, key, good, [[5000, page(9)]])).toMatchObject({ status: 400, body: { error: { code: 'STATE_CORRUPT' } } });
    const absent = await fetch(`${srv.url}/api/rooms/${room}/state`, {
      method: 'PUT',
      headers: { 'x-host-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ format: ROOM_STATE_FORMAT, guestVersion: srv.server.guest.version, diskVersion: srv.server.guest.disk!.version, overlayId: null, overlayGeneration: 0, vm: { chunks: ['ab'.repeat(32)], bytes: 10 }, pages: [] }),
    });
    expect(absent.status).toBe(409);
    expect(((await absent.json()) as { error: { code: string } }).error.code).toBe('STATE_INCOMPLETE');
    // A chunk whose bytes do not match its hash: the whole pack is refused.
    const bad = encodePack([{ hash: sha(page(4)), data: page(4) }, { hash: sha(page(5)), data: page(6) }]);
    const r = await fetch(`${srv.url}/api/rooms/${room}/state/chunks`, { method: 'POST', headers: { 'x-host-key': key }, body: bad });
    expect(r.status).toBe(400);
    const miss = await fetch(`${srv.url}/api/rooms/${room}/state/missing`, { method: 'POST', headers: { 'x-host-key': key }, body: JSON.stringify({ hashes: [sha(page(4))] }) });
    expect(((await miss.json()) as { missing: string[] }).missing).toEqual([sha(page(4))]);
    expect((await latest(srv, room, key)).status).toBe(204);
  });

  it('refuses oversize packs (413), oversize chunks and manifests, before storing anything', async () => {
    const { room, key } = await openRoom(srv);
    // One pack is at most MAX_PACK_BYTES (8 MiB): a bigger one is refused from its Content-Length.
    const big = Buffer.alloc(MAX_PACK_BYTES + 1);
    const r = await fetch(`${srv.url}/api/rooms/${room}/state/chunks`, { method: 'POST', headers: { 'x-host-key': key, 'content-type': 'application/octet-stream' }, body: big });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('TOO_LARGE');
    // A chunk framed as longer than a chunk may be (a VM piece is at most 1 MiB).
    const frame = Buffer.alloc(36 + 16);
    frame.writeUInt32BE(VM_CHUNK_BYTES + 1, 32);
    const f = await fetch(`${srv.url}/api/rooms/${room}/state/chunks`, { method: 'POST', headers: { 'x-host-key': key }, body: frame });
    expect([f.status, ((await f.json()) as { error: { code: string } }).error.code]).toEqual([400, 'STATE_CORRUPT']);
    // A manifest naming more pages than a state may hold.
    const pages = Array.from({ length: MAX_STATE_PAGES + 1 }, (_, i) => [i, 0xffff, sha(page(i % 250))]);
    const m = await fetch(`${srv.url}/api/rooms/${room}/state`, {
      method: 'PUT',
      headers: { 'x-host-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ format: ROOM_STATE_FORMAT, guestVersion: srv.server.guest.version, diskVersion: srv.server.guest.disk!.version, overlayId: null, overlayGeneration: 0, vm: { chunks: ['ab'.repeat(32)], bytes: 10 }, pages }),
    });
    expect([m.status, ((await m.json()) as { error: { code: string } }).error.code]).toEqual([400, 'STATE_CORRUPT']);
    expect(await srv.server.roomStates.states.usedBytes(room)).toBe(0);
    expect((await latest(srv, room, key)).status).toBe(204);
  });

  it('refuses uploads beyond the room’s quota, whole, instead of truncating them', async () => {
    const { room, key } = await openRoom(srv);
    // ROOM_STATE_MAX_MB=3: a 2 MiB state fits, a second different one does not (the first is kept).
    expect(await upload(srv, room, key, vmState(2 * 1024 * 1024), [])).toMatchObject({ status: 201 });
    const over = await upload(srv, room, key, vmState(2 * 1024 * 1024), []);
    expect(over).toMatchObject({ step: 'chunks', status: 429, body: { error: { code: 'QUOTA_EXCEEDED' } } });
    expect(await srv.server.roomStates.states.usedBytes(room)).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(((await (await latest(srv, room, key)).json()) as { bytes: number }).bytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('is described in the OpenAPI document, with the schemas the routes validate with', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: { properties?: object } }> } }>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/rooms/{id}/state', '/api/rooms/{id}/state/missing', '/api/rooms/{id}/state/chunks', '/api/rooms/{id}/state/read']));
    expect(Object.keys(doc.paths['/api/rooms/{id}/state'])).toEqual(expect.arrayContaining(['get', 'put']));
    expect(doc.paths['/api/rooms/{id}/state'].put.requestBody?.content['application/json'].schema?.properties).toHaveProperty('guestVersion');
  });

  it('lets only people with the host right read a members-only room’s state', async () => {
    const owner = await signUp(srv, 'Olga Owner');
    const made = await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'private' } });
    const room = (made.json as { room: { id: string } }).room.id;
    expect((await as(srv, owner.cookie, `/api/rooms/${room}/state`)).status).toBe(204);
    expect((await fetch(`${srv.url}/api/rooms/${room}/state`)).status).toBe(403);
    const stranger = await signUp(srv, 'Sam Stranger');
    expect((await as(srv, stranger.cookie, `/api/rooms/${room}/state`)).status).toBe(403);
    expect((await fetch(`${srv.url}/api/rooms/${room}/state`, { headers: { 'x-host-token': srv.server.hostToken(room) } })).status).toBe(204);
    expect((await fetch(`${srv.url}/api/rooms/${room}/state`, { headers: { 'x-host-token': srv.server.hostToken('default') } })).status).toBe(403);
  });
});
