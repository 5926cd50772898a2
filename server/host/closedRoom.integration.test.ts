import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../testing/startServer';
import { fakeHostPages } from '../testing/fakeHostPage';
import { as, signUp } from '../testing/accounts';
import { findChromium } from './findChromium';

/**
 * An archived (or deleted) room's headless host closes at once, with its VM, instead of running
 * in the server's Chromium until it idles out (HEADLESS_IDLE_SECONDS, here far longer than the
 * test). The real HeadlessHostPool in a real Chromium; the page is the tests' FakeShell
 * (server/testing/fakeHostPage.ts). Heavy: run it under `flock /tmp/heavy.lock`.
 */
const chromium = findChromium();
let srv: Awaited<ReturnType<typeof startServer>>;
let owner: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  if (!chromium) return;
  srv = await startServer({ HEADLESS: 'auto', HOST: '127.0.0.1', CHROMIUM_PATH: chromium, HEADLESS_IDLE_SECONDS: '3600' }, { next: await fakeHostPages() });
  owner = await signUp(srv, 'Owner');
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function hostedRoom(name: string): Promise<string> {
  const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name } })).json.room.id as string;
  await srv.server.headless()!.ensureHost(room);
  await until('the headless page hosts', () => srv.server.hub.relay(room)?.hasHost ?? false);
  return room;
}

describe.skipIf(!chromium)('a closed room’s headless host', () => {
  it('closes as the room is archived, not when it idles out', async () => {
    const room = await hostedRoom('Archived while hosted');
    const other = await hostedRoom('Still in use');
    expect(srv.server.headless()!.rooms.sort()).toEqual([room, other].sort());
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { archived: true } })).status).toBe(200);
    await until('the archived room’s page is closed', () => !srv.server.headless()!.rooms.includes(room), 5_000);
    // The other room's host is untouched, and the archived room gets no host back.
    expect(srv.server.headless()!.rooms).toEqual([other]);
    await new Promise((r) => setTimeout(r, 500));
    expect(srv.server.hub.relay(room)?.hasHost ?? false).toBe(false);
  }, 60_000);

  it('closes as the room is deleted', async () => {
    const room = await hostedRoom('Deleted while hosted');
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'DELETE', json: {} })).status).toBe(204);
    await until('the deleted room’s page is closed', () => !srv.server.headless()!.rooms.includes(room), 5_000);
  }, 60_000);

  it('closes a page that was still opening when the room was archived', async () => {
    const room = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Archived while opening' } })).json.room.id as string;
    const opening = srv.server.headless()!.ensureHost(room);
    expect((await as(srv, owner.cookie, `/api/rooms/${room}`, { method: 'PATCH', json: { archived: true } })).status).toBe(200);
    await opening.catch(() => {});
    await until('the archived room’s page is closed', () => !srv.server.headless()!.rooms.includes(room), 5_000);
  }, 60_000);
});
