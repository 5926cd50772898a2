import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { next, nextWhere, startServer, type ClientSocket } from '../testing/startServer';
import { MAX_SOCKET_FRAME_BYTES } from '../../lib/shared/protocol';
import { connectOutcome } from '../testing/errorCode';

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

const connectError = connectOutcome;

describe('relay over real Socket.IO', () => {
  it('shares host output with guests live and gives a late guest the screen', async () => {
    const host = await srv.client('default');
    expect((await next(host, 'room:state')).seat).toBe('host');
    const guest = await srv.client('default');
    const st = await next(guest, 'room:state');
    expect(st).toMatchObject({ seat: 'guest', hostConnected: true });

    const got = next(guest, 'term:out');
    host.emit('term:out', { tab: 'main', seq: 1, data: 'user@tandem:~$ echo $((6*7))\r\n42\r\n' });
    expect((await got).data).toContain('42');

    const typed = next(host, 'term:in');
    guest.emit('term:in', { tab: 'main', data: 'ls\r' });
    expect(await typed).toEqual({ tab: 'main', data: 'ls\r' });

    const late = await srv.client('default');
    const snap = await next(late, 'term:snapshot');
    expect(snap.seq).toBe(1);
    expect(snap.data).toContain('42');

    const resized = next(guest, 'term:resize');
    host.emit('term:resize', { tab: 'main', cols: 100, rows: 30 });
    expect(await resized).toMatchObject({ cols: 100, rows: 30 });
    for (const s of [host, guest, late]) s.disconnect();
  });

  it('tells guests when the host leaves and resumes when a host returns', async () => {
    const host = await srv.client('default', { clientId: 'host-tab-1' });
    await next(host, 'room:state');
    const guest = await srv.client('default');
    await next(guest, 'room:state');
    // Other state updates (the guest count) may come first: wait for the one that says it.
    const gone = nextWhere(guest, 'room:state', (s) => !s.hostConnected);
    host.disconnect();
    expect((await gone).hostConnected).toBe(false);
    const err = next(guest, 'room:error');
    guest.emit('term:in', { tab: 'main', data: 'x' });
    expect((await err).code).toBe('NO_HOST');

    const back = nextWhere(guest, 'room:state', (s) => s.hostConnected);
    const host2 = await srv.client('default', { clientId: 'host-tab-1' });
    expect((await next(host2, 'room:state')).seat).toBe('host');
    expect((await back).hostConnected).toBe(true);
    const out = next(guest, 'term:out');
    host2.emit('term:out', { tab: 'main', seq: 1, data: 'resumed' });
    expect((await out).data).toBe('resumed');
    host2.disconnect();
    guest.disconnect();
  });

  it('refuses bad handshakes with named errors', async () => {
    expect(await connectError(srv.client('default', { v: 999 }))).toBe('PROTOCOL_MISMATCH');
    expect(await connectError(srv.client('no-such-room'))).toBe('ROOM_NOT_FOUND');
    expect(await connectError(srv.client('../../etc/passwd'))).toBe('BAD_ROOM_ID');
  });

  it('answers malformed, oversized and forged messages with named errors and keeps working', async () => {
    const host = await srv.client('default');
    await next(host, 'room:state');
    const guest: ClientSocket = await srv.client('default');
    await next(guest, 'room:state');
    const errors: string[] = [];
    guest.on('room:error', (e) => errors.push(e.code + ':' + e.event));

    guest.emit('term:out', { tab: 'main', seq: 1, data: 'I am the host now' });
    guest.emit('term:in', { tab: 'main', data: 'x'.repeat(5000) });
    guest.emit('term:in', 'not an object' as never);
    const raw = guest as unknown as { emit: (e: string, p: unknown) => void };
    raw.emit('rm -rf', {});
    // Names every object inherits are not events either.
    raw.emit('constructor', {});
    raw.emit('toString', {});
    await new Promise((r) => setTimeout(r, 200));
    // Socket.IO runs catch-all listeners before event handlers, so compare as a set.
    expect(errors.sort()).toEqual(['BAD_MESSAGE:constructor', 'BAD_MESSAGE:rm -rf', 'BAD_MESSAGE:term:in', 'BAD_MESSAGE:toString', 'NOT_HOST:term:out', 'TOO_LARGE:term:in']);

    // A frame beyond the socket cap closes only that connection.
    const big = await srv.client('default');
    const closed = new Promise((r) => big.once('disconnect', r));
    big.emit('term:in', { tab: 'main', data: 'y'.repeat(MAX_SOCKET_FRAME_BYTES + 10) });
    await closed;

    const typed = next(host, 'term:in');
    guest.emit('term:in', { tab: 'main', data: 'still works' });
    expect((await typed).data).toBe('still works');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    host.disconnect();
    guest.disconnect();
  });

  it('makes exactly one host when two race for an empty room', async () => {
    const room = srv.server.rooms.create('race').id;
    const [a, b] = await Promise.all([srv.client(room), srv.client(room)]);
    const seats = await Promise.all([next(a, 'room:state'), next(b, 'room:state')]);
    expect(seats.map((r) => r.seat).sort()).toEqual(['guest', 'host']);
    a.disconnect();
    b.disconnect();
  });

  it('accepts the server-signed host token, refuses forged ones, and lets a human take over', async () => {
    const room = srv.server.rooms.create('headless').id;
    const forged = srv.server.hostToken(room).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(await connectError(srv.client(room, { hostToken: forged }))).toBe('UNAUTHORIZED');
    expect(await connectError(srv.client(room, { hostToken: srv.server.hostToken('default') }))).toBe('UNAUTHORIZED');

    const bot = await srv.client(room, { hostToken: srv.server.hostToken(room) });
    expect(await next(bot, 'room:state')).toMatchObject({ seat: 'host', hostHeadless: true });
    const yielding = next(bot, 'host:yield');
    const human = await srv.client(room);
    // The person watches while the headless host saves the VM, then gets it (host:give).
    expect(await next(human, 'room:state')).toMatchObject({ seat: 'guest', hostHeadless: true });
    bot.emit('host:give', { to: (await yielding).peer });
    let hs = await next(human, 'room:state');
    while (hs.seat !== 'host') hs = await next(human, 'room:state');
    expect(hs.hostHeadless).toBe(false);
    let st = await next(bot, 'room:state');
    while (st.seat !== 'guest') st = await next(bot, 'room:state');
    expect(st.seat).toBe('guest');
    bot.disconnect();
    human.disconnect();
  });
});
