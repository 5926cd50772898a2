import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { next, startServer } from '../testing/startServer';
import { as, cookieFrom, signUp } from '../testing/accounts';
import { call } from '../testing/http';
import { MAX_SCREEN_FRAME_BYTES } from '../../lib/shared/protocol';

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

// A real 1×1 PNG: what a host's canvas.toDataURL would send, only smaller.
const PNG_1x1 = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('screen relay over real Socket.IO', () => {
  it('gives a late-joining guest the host’s latest frame, then live ones; guest input reaches the host', async () => {
    const host = await srv.client('alpine');
    expect((await next(host, 'room:state')).seat).toBe('host');
    host.emit('screen:frame', { seq: 1, width: 1, height: 1, data: PNG_1x1 });
    // No guest yet: the frame waits on the server for whoever joins.
    await new Promise((r) => setTimeout(r, 100));
    const guest = await srv.client('alpine');
    expect((await next(guest, 'room:state')).seat).toBe('guest');
    const first = await next(guest, 'screen:frame');
    expect(first).toMatchObject({ width: 1, height: 1, data: PNG_1x1 });

    const live = next(guest, 'screen:frame');
    host.emit('screen:frame', { seq: 2, width: 2, height: 1, data: PNG_1x1 });
    expect((await live).width).toBe(2);

    const typed = next(host, 'screen:input');
    guest.emit('screen:input', { events: [{ kind: 'key', code: 'Enter', down: true }, { kind: 'key', code: 'Enter', down: false }] });
    expect((await typed).events).toHaveLength(2);
    host.disconnect();
    guest.disconnect();
  });

  it('refuses oversized, malformed and guest-sent frames with named errors, and relays none of them', async () => {
    const host = await srv.client('alpine', { clientId: 'screen-host-2' });
    expect((await next(host, 'room:state')).seat).toBe('host');
    const guest = await srv.client('alpine');
    await next(guest, 'room:state');

    const big = next(host, 'room:error');
    host.emit('screen:frame', { seq: 1, width: 1, height: 1, data: `data:image/jpeg;base64,${'A'.repeat(MAX_SCREEN_FRAME_BYTES)}` });
    expect(await big).toMatchObject({ code: 'TOO_LARGE', event: 'screen:frame' });

    const bad = next(host, 'room:error');
    host.emit('screen:frame', { seq: 2, width: 1, height: 1, data: 'data:text/html,<script>alert(1)</script>' });
    expect(await bad).toMatchObject({ code: 'BAD_MESSAGE', event: 'screen:frame' });

    const notHost = next(guest, 'room:error');
    guest.emit('screen:frame', { seq: 1, width: 1, height: 1, data: PNG_1x1 });
    expect(await notHost).toMatchObject({ code: 'NOT_HOST' });

    const badInput = next(guest, 'room:error');
    guest.emit('screen:input', { events: [{ kind: 'key', code: 'Key A', down: true }] });
    expect(await badInput).toMatchObject({ code: 'BAD_MESSAGE', event: 'screen:input' });

    // Only the earlier test's valid frame ever reached the room.
    expect(srv.server.hub.relay('alpine')?.latestScreenFrame?.width).toBe(2);
    host.disconnect();
    guest.disconnect();
  });
});

describe('screen input permission', () => {
  it('is the same as typing in the terminal: a viewer sees the screen but its keys are refused', async () => {
    const owner = await signUp(srv, 'Olivia Owner');
    const roomId = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Screen class' } })).json.room.id as string;
    const inv = await as(srv, owner.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', json: { role: 'viewer' } });
    expect(inv.status, inv.text).toBe(201);
    const redeemed = await call(srv, `/api/invites/${inv.json.token}/redeem`, { method: 'POST', json: { name: 'Vee Viewer' } });
    expect(redeemed.status, redeemed.text).toBe(200);

    const host = await srv.client(roomId, { cookie: owner.cookie });
    expect((await next(host, 'room:state')).seat).toBe('host');
    host.emit('screen:frame', { seq: 1, width: 1, height: 1, data: PNG_1x1 });
    const viewer = await srv.client(roomId, { cookie: cookieFrom(redeemed.headers.get('set-cookie')) });
    expect((await next(viewer, 'room:state')).me).toMatchObject({ role: 'viewer', canType: false });
    expect((await next(viewer, 'screen:frame')).data).toBe(PNG_1x1);

    const refused = next(viewer, 'room:error');
    const delivered = next(host, 'screen:input', 800).then(() => 'delivered', () => 'nothing');
    viewer.emit('screen:input', { events: [{ kind: 'key', code: 'KeyR', down: true }] });
    expect(await refused).toMatchObject({ code: 'FORBIDDEN', event: 'screen:input' });
    expect(await delivered).toBe('nothing');
    host.disconnect();
    viewer.disconnect();
  });
});
