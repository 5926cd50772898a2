import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { next, startServer } from '../testing/startServer';
import { SYNC_BURST, SYNC_INTERVAL_MS } from './SyncScheduler';

/** Attacker test for `term:sync` amplification (issue 9, hole 4). */
let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off' });
});
afterAll(async () => {
  await srv?.close();
});

describe('term:sync (attacker)', () => {
  it('a viewer looping resync requests gets a bounded number of snapshots; the last request is still answered', async () => {
    const room = srv.server.rooms.create('sync loop').id;
    const host = await srv.client(room);
    expect((await next(host, 'room:state')).seat).toBe('host');
    host.emit('term:resize', { tab: 'main', cols: 200, rows: 60 });
    for (let i = 1; i <= 20; i++) host.emit('term:out', { tab: 'main', seq: i, data: `${'line '.repeat(38)}${i}\r\n`.repeat(25) });
    const guest = await srv.client(room, { wantHost: false });
    await next(guest, 'term:snapshot'); // the join snapshot
    let snapshots = 0;
    guest.on('term:snapshot', () => snapshots++);
    const started = Date.now();
    for (let i = 0; i < 300; i++) guest.emit('term:sync', { tab: 'main' });
    await new Promise((r) => setTimeout(r, 1200));
    const elapsed = Date.now() - started;
    // The burst, one per interval after it, and the one request remembered while waiting.
    expect(snapshots).toBeGreaterThanOrEqual(1);
    expect(snapshots).toBeLessThanOrEqual(SYNC_BURST + Math.ceil(elapsed / SYNC_INTERVAL_MS) + 1);
    // The room still works for everyone: live output reaches the looping guest and a bystander.
    const bystander = await srv.client(room, { wantHost: false });
    await next(bystander, 'term:snapshot');
    const live = next(bystander, 'term:out');
    host.emit('term:out', { tab: 'main', seq: 21, data: 'still alive\r\n' });
    expect((await live).data).toBe('still alive\r\n');
    // An honest single request after the storm is answered (remembered, never dropped).
    await new Promise((r) => setTimeout(r, SYNC_INTERVAL_MS * 2));
    const before = snapshots;
    guest.emit('term:sync', { tab: 'main' });
    await new Promise((r) => setTimeout(r, SYNC_INTERVAL_MS * 2));
    expect(snapshots).toBe(before + 1);
    for (const s of [host, guest, bystander]) s.disconnect();
  });
});
