import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { next, startServer } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { OPEN_ROOMS_PER_CLIENT_RATE } from './OpenRooms';

/** Attacker tests for anonymous room creation (issue 9, hole 3). */
type Srv = Awaited<ReturnType<typeof startServer>>;
const newRoom = (srv: Srv, cookie?: string) =>
  fetch(`${srv.url}/rooms/new`, {
    method: 'POST',
    body: 'name=spam',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    redirect: 'manual',
  });
const roomOf = (r: Response) => r.headers.get('location')!.split('/').pop()!;

describe('anonymous room creation (attacker)', () => {
  let srv: Srv;
  beforeAll(async () => {
    srv = await startServer({ HEADLESS: 'off', OPEN_ROOMS_MAX: '40' });
  });
  afterAll(async () => {
    await srv?.close();
  });
  afterEach(() => srv.disconnectAll());

  it('is rate-limited per client: a burst past the limit is 429 with Retry-After, and makes no rooms', async () => {
    const before = srv.server.rooms.countOpen();
    const statuses: number[] = [];
    for (let i = 0; i < OPEN_ROOMS_PER_CLIENT_RATE.points + 5; i++) statuses.push((await newRoom(srv)).status);
    expect(statuses.filter((s) => s === 303)).toHaveLength(OPEN_ROOMS_PER_CLIENT_RATE.points);
    const refused = await newRoom(srv);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(srv.server.rooms.countOpen()).toBe(before + OPEN_ROOMS_PER_CLIENT_RATE.points);
  });

  it('is capped server-wide (QUOTA_EXCEEDED); signed-in users still make members-only rooms', async () => {
    // Other clients fill the server: the cap holds whoever asks.
    while (srv.server.rooms.countOpen() < 40) srv.server.rooms.create('filler', { creatorKey: 'someone-else' });
    const r = await newRoom(srv);
    expect(r.status).toBe(429);
    expect((await r.json()).error.code).toBe('QUOTA_EXCEEDED');
    const user = await signUp(srv, 'Sally Signed');
    const mine = await newRoom(srv, user.cookie);
    expect(mine.status).toBe(303);
    expect(srv.server.rooms.get(roomOf(mine))?.ownerId).toBe(user.id);
  });

  it('reclaims idle open rooms nobody is in; keeps rooms in use, members-only rooms and the built-in ones', async () => {
    const idle = srv.server.rooms.create('idle', { creatorKey: 'k' }).id;
    const busy = srv.server.rooms.create('busy', { creatorKey: 'k' }).id;
    const host = await srv.client(busy);
    await next(host, 'room:state');
    const owner = await signUp(srv, 'Mo Member');
    const priv = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Mine' } })).json.room.id;
    const later = new Date(Date.now() + srv.server.openRooms.idleMs + 60_000);
    const gone = srv.server.openRooms.reclaimIdle(later);
    expect(gone).toContain(idle);
    expect(gone).not.toContain(busy);
    for (const id of [busy, priv, 'default', 'alpine']) expect(srv.server.rooms.get(id)).toBeDefined();
    expect(srv.server.rooms.get(idle)).toBeUndefined();
    // A full server makes room by reclaiming idle rooms before it refuses anyone.
    host.disconnect();
  });
});

describe('mirror memory in total (attacker)', () => {
  it('rooms hosted wide then left give up their mirrors once the total is over its cap', async () => {
    const srv = await startServer({ HEADLESS: 'off', MIRROR_MEMORY_MAX_MB: '12' });
    try {
      const rooms = Array.from({ length: 6 }, (_, i) => srv.server.rooms.create(`wide ${i}`).id);
      for (const room of rooms) {
        const host = await srv.client(room);
        await next(host, 'room:state');
        host.emit('term:resize', { tab: 'main', cols: 500, rows: 300 });
        host.emit('tab:open', { tab: 'two', title: 'Two' });
        host.emit('term:resize', { tab: 'two', cols: 500, rows: 300 });
        await new Promise((r) => setTimeout(r, 50));
        host.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
      let total = 0;
      for (const r of srv.server.hub.relays.values()) total += r.mirrorBytes;
      expect(total).toBeLessThanOrEqual(12 * 1024 * 1024);
      // The latest room is still there for its host's reload.
      expect(srv.server.hub.relay(rooms[5])).toBeDefined();
    } finally {
      await srv.close();
    }
  });
});

describe('per-room state is reaped with its room', () => {
  it('deleting a room closes its relay at once; reclaimed open rooms leave no relay either', async () => {
    const srv = await startServer({ HEADLESS: 'off' });
    try {
      const owner = await signUp(srv, 'Reg Reaper');
      const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'short-lived' } })).json.room.id;
      const host = await srv.client(room, { cookie: owner.cookie });
      await next(host, 'room:state');
      host.emit('term:out', { tab: 'main', seq: 1, data: 'something to mirror\r\n' });
      host.emit('term:sync', { tab: 'main' });
      await new Promise((r) => setTimeout(r, 50));
      expect(srv.server.hub.relay(room)).toBeDefined();
      expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'DELETE', json: {} })).status).toBe(204);
      await new Promise((r) => setTimeout(r, 50));
      expect(srv.server.hub.relay(room)).toBeUndefined();

      const open = srv.server.rooms.create('idle open').id;
      const guest = await srv.client(open);
      await next(guest, 'room:state');
      guest.disconnect();
      // The server sees the disconnect a moment later (longer on a busy machine).
      await vi.waitFor(() => expect(srv.server.hub.relay(open)?.size).toBe(0));
      expect(srv.server.hub.relay(open)).toBeDefined(); // kept a while for a returning host
      srv.server.openRooms.reclaimIdle(new Date(Date.now() + srv.server.openRooms.idleMs + 60_000));
      expect(srv.server.rooms.get(open)).toBeUndefined();
      expect(srv.server.hub.relay(open)).toBeUndefined();
    } finally {
      await srv.close();
    }
  });
});
