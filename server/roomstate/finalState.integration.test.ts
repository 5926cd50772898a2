import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, nextWhere } from '../testing/startServer';
import { openRoom, page, upload, vmState, type Srv } from '../testing/roomStateUpload';

/**
 * A host closing its page (issue 11): it announces a final state with a keepalive request, and a
 * service worker uploads it after the page is gone (lib/browser/room/finalState.ts). The next
 * host's restore waits for that state, bounded; only the announcing host's key may finish it. The
 * browser side (the worker, pagehide) is e2e/final-state.spec.ts's.
 */
const FINAL_WAIT_MS = 1500;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-finalstate-'));
const disk = path.join(dir, 'disk.ext2');
fs.writeFileSync(disk, Buffer.alloc(0));
fs.truncateSync(disk, 4 * 1024 * 1024);

let srv: Srv;
beforeAll(async () => {
  srv = await startServer({ DISK_SOURCE: disk, ROOM_STATE_FINAL_WAIT_MS: String(FINAL_WAIT_MS), HANDOVER_WAIT_SECONDS: '0' });
});
afterAll(async () => {
  await srv?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const FINAL = { 'x-final-state': '1' };
const announce = (room: string, key: string) => fetch(`${srv.url}/api/rooms/${room}/state/final`, { method: 'POST', headers: { 'x-host-key': key } });
/** GET the newest state as `key`; resolves with its id (or null) and how long the answer took. */
async function timedLatest(room: string, key: string): Promise<{ id: string | null; ms: number }> {
  const t0 = Date.now();
  const r = await fetch(`${srv.url}/api/rooms/${room}/state`, { headers: { 'x-host-key': key } });
  const id = r.status === 200 ? ((await r.json()) as { id: string }).id : null;
  return { id, ms: Date.now() - t0 };
}

/** A room whose host saved one state, then leaves announcing its final one; the guest takes over. */
async function leaving() {
  const { room, host, guest, key } = await openRoom(srv);
  const older = await upload(srv, room, key, vmState(20_000), [[1, page(1)]]);
  expect(older.status).toBe(201);
  expect((await announce(room, key)).status).toBe(202);
  host.disconnect();
  await nextWhere(guest, 'room:state', (s) => !s.hostConnected);
  guest.emit('host:take', {});
  const st = await nextWhere(guest, 'room:state', (s) => s.seat === 'host');
  return { room, key, newKey: st.hostKey!, olderId: (older.body as { id: string }).id };
}

describe('a leaving host’s final state', () => {
  it('the next host’s restore waits for it, and it may still be uploaded after the seat moved', async () => {
    const { room, key, newKey } = await leaving();
    const reading = timedLatest(room, newKey);
    await new Promise((r) => setTimeout(r, 300));
    const final = await upload(srv, room, key, vmState(20_000), [[1, page(1)], [2, page(2)]], {}, FINAL);
    expect(final, JSON.stringify(final.body)).toMatchObject({ step: 'commit', status: 201, sent: 2 });
    const got = await reading;
    expect(got.id).toBe((final.body as { id: string }).id);
    expect(got.ms).toBeGreaterThanOrEqual(250);
    expect(got.ms).toBeLessThan(FINAL_WAIT_MS);
    // Committed: the old key's grace is over, the new host's key is the only one that uploads.
    expect(await upload(srv, room, key, vmState(1000), [], {}, FINAL)).toMatchObject({ step: 'missing', status: 403 });
    expect(await upload(srv, room, newKey, vmState(1000), [])).toMatchObject({ status: 201 });
  });

  it('a final state that never arrives stalls the handover no longer than its bound; then the old key is refused', async () => {
    const { room, key, newKey, olderId } = await leaving();
    const got = await timedLatest(room, newKey);
    expect(got.id).toBe(olderId);
    expect(got.ms).toBeGreaterThanOrEqual(FINAL_WAIT_MS - 300);
    expect(got.ms).toBeLessThan(FINAL_WAIT_MS + 2000);
    expect(await upload(srv, room, key, vmState(1000), [], {}, FINAL)).toMatchObject({ step: 'missing', status: 403 });
    // Nothing is waited for any more.
    expect((await timedLatest(room, newKey)).ms).toBeLessThan(500);
  });

  it('an ordinary upload by the leaving key does not end the wait: only its final one does', async () => {
    const { room, key, newKey } = await leaving();
    const reading = timedLatest(room, newKey);
    // A quiet-time upload of the page that was already on its way when it closed.
    const stray = await upload(srv, room, key, vmState(5000), []);
    expect(stray.status).toBe(201);
    const final = await upload(srv, room, key, vmState(5000), [[3, page(3)]], {}, FINAL);
    expect((await reading).id).toBe((final.body as { id: string }).id);
  });

  it('refuses an announce or a final upload from a guest, another room’s host, or a host that has been replaced', async () => {
    const a = await openRoom(srv);
    const b = await openRoom(srv);
    for (const [what, room, key] of [
      ['no key', a.room, ''],
      ['a forged key', a.room, 'x'.repeat(24)],
      ['another room’s host key', a.room, b.key],
    ] as const) {
      expect((await announce(room, key)).status, what).toBe(403);
      expect(await upload(srv, room, key, vmState(1000), [], {}, FINAL), what).toMatchObject({ step: 'missing', status: 403 });
    }
    // A host replaced (it gave the VM away) may neither announce nor upload a "final" state.
    const hostSt = await nextWhere(a.host, 'room:state', (s) => (s.candidates?.length ?? 0) > 0);
    a.host.emit('host:give', { to: hostSt.candidates![0].peer });
    await nextWhere(a.guest, 'room:state', (s) => s.seat === 'host');
    expect((await announce(a.room, a.key)).status).toBe(403);
    expect(await upload(srv, a.room, a.key, vmState(1000), [], {}, FINAL)).toMatchObject({ step: 'missing', status: 403 });
    // A real announce does not open the room to anyone else either.
    expect((await announce(b.room, b.key)).status).toBe(202);
    expect(await upload(srv, b.room, a.key, vmState(1000), [], {}, FINAL)).toMatchObject({ step: 'missing', status: 403 });
  });

  it('serves the worker script, bundled', async () => {
    const r = await fetch(`${srv.url}/room-state-worker.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    const js = await r.text();
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).toContain('x-final-state');
    // Checked with zod's mini build and the schema-free pack codec: full zod made it ~460 KB.
    expect(Buffer.byteLength(js)).toBeLessThan(64 * 1024);
  });
});
