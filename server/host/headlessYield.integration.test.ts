import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, nextWhere } from '../testing/startServer';
import { fakeHostPages } from '../testing/fakeHostPage';
import { findChromium } from './findChromium';

/**
 * The server's headless host saves before it yields (issue 11): a person who may host opens a room
 * the real HeadlessHostPool runs (in a real Chromium); they watch while the headless page uploads
 * the room's VM state with its host key, and get the seat only after that state is on the server.
 * The page is the tests' FakeShell with a small stand-in state (server/testing/fakeHostPage.ts);
 * a page that never answers loses the seat at the deadline (RoomRelay.handover.test.ts). Heavy:
 * run it under `flock /tmp/heavy.lock`.
 */
const chromium = findChromium();
let srv: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  if (!chromium) return;
  srv = await startServer({ HEADLESS: 'auto', HOST: '127.0.0.1', CHROMIUM_PATH: chromium, HANDOVER_WAIT_SECONDS: '0' }, { next: await fakeHostPages({ saveOnYield: true }) });
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

describe.skipIf(!chromium)('a person opening a room the headless host runs', () => {
  it('gets the seat once the headless host has saved the VM on the server', async () => {
    const room = srv.server.rooms.create('yield').id;
    await srv.server.headless()!.ensureHost(room);
    const headers = { 'x-host-token': srv.server.hostToken(room) };
    const stateAt = async () => {
      const r = await fetch(`${srv.url}/api/rooms/${room}/state`, { headers });
      return r.status === 200 ? ((await r.json()) as { createdAt: number }).createdAt : 0;
    };
    expect(await stateAt()).toBe(0);

    const person = await srv.client(room);
    const first = await nextWhere(person, 'room:state', () => true);
    expect(first.seat).toBe('guest');
    expect(first.hostHeadless).toBe(true);
    const seated = await nextWhere(person, 'room:state', (s) => s.seat === 'host', 30_000);
    const seatedAt = Date.now();
    expect(seated.hostKey).toBeTruthy();
    const savedAt = await stateAt();
    expect(savedAt).toBeGreaterThan(0);
    expect(savedAt).toBeLessThanOrEqual(seatedAt);
  }, 90_000);
});
