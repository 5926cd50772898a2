import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { next, nextWhere, startServer, type ClientSocket } from '../testing/startServer';
import { as, cookieFrom, signUp } from '../testing/accounts';
import { call } from '../testing/http';
import { encodeSessionCookie, sessionCookieName } from '../auth/sessionJwt';
import { guestCookieName, signGuestToken } from '../auth/guestToken';
import { InviteStore } from '../accounts/InviteStore';
import { MembershipStore } from '../accounts/MembershipStore';
import { INVITE_REDEEM_PER_IP } from '../accounts/RateLimiter';
import { connectOutcome } from '../testing/errorCode';

let srv: Awaited<ReturnType<typeof startServer>>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;
let roomId: string;
let otherRoomId: string;

beforeAll(async () => {
  srv = await startServer();
  owner = await signUp(srv, 'Olivia Owner');
  stranger = await signUp(srv, 'Sam Stranger');
  roomId = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Pairing' } })).json.room.id;
  otherRoomId = (await as(srv, stranger.cookie, '/api/me/rooms', { method: 'POST', json: { name: "Sam's" } })).json.room.id;
});
afterAll(async () => {
  await srv?.close();
});
afterEach(() => srv.disconnectAll());

const connectCode = (p: Promise<ClientSocket>) => connectOutcome(p.then((s) => s.disconnect()));

async function invite(role = 'viewer', extra: Record<string, unknown> = {}) {
  const r = await as(srv, owner.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', json: { role, ...extra } });
  expect(r.status, r.text).toBe(201);
  return r.json as { token: string; url: string; invite: { id: string } };
}

/** Joins by link without an account; returns the guest cookie. */
async function joinAsGuest(token: string, name = 'Gus Guest') {
  const r = await call(srv, `/api/invites/${token}/redeem`, { method: 'POST', json: { name } });
  expect(r.status, r.text).toBe(200);
  return cookieFrom(r.headers.get('set-cookie'));
}

async function hostRoom() {
  const host = await srv.client(roomId, { cookie: owner.cookie });
  const st = await next(host, 'room:state');
  expect(st.seat).toBe('host');
  expect(st.me).toMatchObject({ role: 'owner', canType: true, canHost: true, canManage: true });
  return host;
}

/** Whether `s` typing reaches the host: the host's next term:in, or the error `s` gets. */
async function typeResult(host: ClientSocket, s: ClientSocket, data: string): Promise<string> {
  const got = next(host, 'term:in', 1500).then((i) => `delivered:${i.data}`).catch(() => 'nothing');
  const err = next(s, 'room:error', 1500).then((e) => `refused:${e.code}`).catch(() => 'no-error');
  s.emit('term:in', { tab: 'main', data });
  const [a, b] = await Promise.all([got, err]);
  return a !== 'nothing' ? a : b;
}

describe('socket handshake', () => {
  it('refuses members-only rooms to the signed-out, strangers, forged and foreign credentials', async () => {
    expect(await connectCode(srv.client(roomId))).toBe('UNAUTHORIZED');
    expect(await connectCode(srv.client(roomId, { cookie: stranger.cookie }))).toBe('FORBIDDEN');
    const forgedJwt = await encodeSessionCookie({ userId: owner.id, sid: owner.sid }, 'another-secret-of-32-characters!!', false);
    expect(await connectCode(srv.client(roomId, { cookie: `${sessionCookieName(false)}=${forgedJwt}` }))).toBe('UNAUTHORIZED');
    // A well-signed JWT whose session row does not exist (signed out, or invented) is nobody.
    const noRow = await encodeSessionCookie({ userId: owner.id, sid: 'not-a-session' }, srv.server.secret, false);
    expect(await connectCode(srv.client(roomId, { cookie: `${sessionCookieName(false)}=${noRow}` }))).toBe('UNAUTHORIZED');
    expect(await connectCode(srv.client(roomId, { cookie: `${guestCookieName(roomId)}=forged.guest.123.abc` }))).toBe('UNAUTHORIZED');
    // A guest cookie of another room, even renamed to this room's cookie, admits nobody here.
    const other = signGuestToken(srv.server.secret, otherRoomId, 'someguest');
    expect(await connectCode(srv.client(roomId, { cookie: `${guestCookieName(roomId)}=${other}` }))).toBe('UNAUTHORIZED');
    expect(await connectCode(srv.client(roomId, { cookie: owner.cookie }))).toBe('connected');
    // Open rooms stay open to everyone, as before accounts.
    expect(await connectCode(srv.client('default'))).toBe('connected');
  });

  it('a viewer watches but cannot type or host; promoted live, types; demoted live, the next key is refused', async () => {
    const host = await hostRoom();
    const { token } = await invite('viewer');
    const cookie = await joinAsGuest(token);
    const viewer = await srv.client(roomId, { cookie, wantHost: true });
    const st = await next(viewer, 'room:state');
    expect(st.seat).toBe('guest');
    expect(st.me).toMatchObject({ role: 'viewer', canType: false, canHost: false, name: 'Gus Guest' });
    expect(await typeResult(host, viewer, 'rm -rf ~\r')).toBe('refused:FORBIDDEN');

    const members = await as(srv, owner.cookie, `/api/rooms/${roomId}/members`);
    const gus = members.json.members.find((m: { name: string }) => m.name === 'Gus Guest');
    expect(gus).toMatchObject({ kind: 'guest', role: 'viewer' });
    const promoted = nextWhere(viewer, 'room:state', (s) => !!s.me);
    expect((await as(srv, owner.cookie, `/api/rooms/${roomId}/members/${gus.memberId}`, { method: 'PATCH', json: { role: 'driver' } })).status).toBe(200);
    expect((await promoted).me).toMatchObject({ role: 'driver', canType: true });
    expect(await typeResult(host, viewer, 'echo $((6*7))\r')).toBe('delivered:echo $((6*7))\r');

    const demoted = nextWhere(viewer, 'room:state', (s) => !!s.me);
    await as(srv, owner.cookie, `/api/rooms/${roomId}/members/${gus.memberId}`, { method: 'PATCH', json: { role: 'viewer' } });
    expect((await demoted).me?.role).toBe('viewer');
    expect(await typeResult(host, viewer, 'x')).toBe('refused:FORBIDDEN');
    // Guests have no account to hold authority with.
    const r = await as(srv, owner.cookie, `/api/rooms/${roomId}/members/${gus.memberId}`, { method: 'PATCH', json: { role: 'instructor' } });
    expect(r.status).toBe(403);
    viewer.disconnect();
    host.disconnect();
  });

  it('leaving: a guest’s seat and cookie end, a member’s membership ends, both cut off live; the last owner cannot leave', async () => {
    const host = await hostRoom();
    const cookie = await joinAsGuest((await invite('driver')).token, 'Leo Leaver');
    const member = await signUp(srv, 'Max Member');
    await as(srv, member.cookie, `/api/invites/${(await invite('driver')).token}/redeem`, { method: 'POST', json: {} });
    const g = await srv.client(roomId, { cookie });
    const m = await srv.client(roomId, { cookie: member.cookie });
    await next(g, 'room:state');
    await next(m, 'room:state');
    const gone = Promise.all([g, m].map((s) => new Promise<string>((res) => s.once('disconnect', (why) => res(why)))));

    const left = await call(srv, `/api/rooms/${roomId}/leave`, { method: 'POST', json: {}, headers: { cookie } });
    expect(left.status).toBe(204);
    expect(left.headers.get('set-cookie')).toMatch(new RegExp(`^${guestCookieName(roomId)}=;.*Max-Age=0`));
    expect((await as(srv, member.cookie, `/api/rooms/${roomId}/leave`, { method: 'POST', json: {} })).status).toBe(204);
    expect(await gone).toEqual(['io server disconnect', 'io server disconnect']);
    // The old guest cookie (say, kept by the browser of a shared computer) admits nobody now.
    expect(await connectCode(srv.client(roomId, { cookie }))).toBe('FORBIDDEN');
    expect(await connectCode(srv.client(roomId, { cookie: member.cookie }))).toBe('FORBIDDEN');
    const { members } = (await as(srv, owner.cookie, `/api/rooms/${roomId}/members`)).json as { members: { name: string }[] };
    expect(members.map((x) => x.name)).not.toContain('Max Member');
    expect(members.map((x) => x.name)).not.toContain('Leo Leaver');
    // Nothing to leave, or the last owner: refused by name; a cross-site form cannot make anyone leave.
    expect((await as(srv, stranger.cookie, `/api/rooms/${roomId}/leave`, { method: 'POST', json: {} })).status).toBe(404);
    expect((await as(srv, owner.cookie, `/api/rooms/${roomId}/leave`, { method: 'POST', json: {} })).json.error.code).toBe('LAST_OWNER');
    const form = await fetch(`${srv.url}/api/rooms/${roomId}/leave`, { method: 'POST', body: 'x=1', headers: { cookie: member.cookie, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    host.disconnect();
  });

  it('revoking a link cuts off, live, everyone who joined through it, and they cannot come back', async () => {
    const host = await hostRoom();
    const inv = await invite('driver');
    const cookie = await joinAsGuest(inv.token, 'Link Guest');
    const member = await signUp(srv, 'Mia Member');
    expect((await as(srv, member.cookie, `/api/invites/${inv.token}/redeem`, { method: 'POST', json: {} })).json).toMatchObject({ roomId, role: 'driver' });
    const g = await srv.client(roomId, { cookie });
    const m = await srv.client(roomId, { cookie: member.cookie });
    await next(g, 'room:state');
    await next(m, 'room:state');
    const gone = Promise.all([g, m].map((s) => new Promise<string>((res) => s.once('disconnect', (why) => res(why)))));
    expect((await as(srv, owner.cookie, `/api/rooms/${roomId}/invites/${inv.invite.id}`, { method: 'DELETE', json: {} })).status).toBe(204);
    expect(await gone).toEqual(['io server disconnect', 'io server disconnect']);
    expect(await connectCode(srv.client(roomId, { cookie }))).toBe('FORBIDDEN');
    expect(await connectCode(srv.client(roomId, { cookie: member.cookie }))).toBe('FORBIDDEN');
    expect((await call(srv, `/api/invites/${inv.token}`)).json.error.code).toBe('INVITE_REVOKED');
    host.disconnect();
  });

  it('single-driver mode: only the holder types; hands, grant and take back; viewers cannot take the keyboard', async () => {
    const host = await hostRoom();
    const d1 = await joinAsGuest((await invite('driver')).token, 'Dee One');
    const d2 = await joinAsGuest((await invite('driver')).token, 'Dee Two');
    const v = await joinAsGuest((await invite('viewer')).token, 'Vee');
    const [a, b, c] = await Promise.all([d1, d2, v].map((cookie) => srv.client(roomId, { cookie })));
    const ids = await Promise.all([a, b, c].map(async (s) => (await next(s, 'room:state')).me!.memberId));
    c.emit('control:mode', { mode: 'single' });
    expect((await next(c, 'room:error')).code).toBe('FORBIDDEN');
    host.emit('control:mode', { mode: 'single' }); // the owner switches and holds it
    await new Promise((r) => setTimeout(r, 100));
    expect(await typeResult(host, a, 'a')).toBe('refused:FORBIDDEN');
    a.emit('control:request', {});
    host.emit('control:grant', { memberId: ids[0] });
    await new Promise((r) => setTimeout(r, 100));
    expect(await typeResult(host, a, 'a')).toBe('delivered:a');
    expect(await typeResult(host, b, 'b')).toBe('refused:FORBIDDEN');
    host.emit('control:grant', { memberId: ids[2] }); // a viewer: promote first
    expect((await next(host, 'room:error')).code).toBe('FORBIDDEN');
    c.emit('control:take', {});
    expect((await next(c, 'room:error')).code).toBe('FORBIDDEN');
    host.emit('control:take', {});
    await new Promise((r) => setTimeout(r, 100));
    expect(await typeResult(host, a, 'a')).toBe('refused:FORBIDDEN');
    host.emit('control:mode', { mode: 'all' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await typeResult(host, b, 'b')).toBe('delivered:b');
    host.emit('control:grant', { memberId: 'u:<script>' } as never);
    expect((await next(host, 'room:error')).code).toBe('BAD_MESSAGE');
    for (const s of [a, b, c, host]) s.disconnect();
  });

  it('a signed-out session stops working at once', async () => {
    const u = await signUp(srv, 'Ola Outgoing');
    expect((await as(srv, u.cookie, '/api/me')).json.user.id).toBe(u.id);
    srv.server.sessions.end(u.sid);
    expect((await as(srv, u.cookie, '/api/me')).json.user).toBeNull();
    expect((await as(srv, u.cookie, '/api/me/rooms')).status).toBe(401);
  });
});

describe('Yjs endpoint', () => {
  const upgradeStatus = (room: string, cookie?: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/yjs/${room}`, { headers: cookie ? { cookie } : {} });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });

  it('refuses before any sync: signed out 401, stranger 403, wrong room 401; members get in', async () => {
    expect(await upgradeStatus(roomId)).toBe(401);
    expect(await upgradeStatus(roomId, stranger.cookie)).toBe(403);
    const cookie = await joinAsGuest((await invite('viewer')).token);
    expect(await upgradeStatus(otherRoomId, cookie.replace(guestCookieName(roomId), guestCookieName(otherRoomId)))).toBe(401);
    expect(await upgradeStatus(roomId, owner.cookie)).toBe(101);
    expect(await upgradeStatus(roomId, cookie)).toBe(101);
  });

  const provider = (cookie: string) => {
    const doc = new Y.Doc();
    const p = new WebsocketProvider(srv.url.replace('http', 'ws') + '/yjs', roomId, doc, {
      WebSocketPolyfill: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: { cookie } });
        }
      } as never,
      disableBc: true,
    });
    return { doc, p, synced: new Promise<void>((r) => p.once('sync', () => r())) };
  };
  const until = async (f: () => boolean, ms = 3000) => {
    for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
      if (f()) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return f();
  };

  it("drivers edit the notes; a viewer's edits and anyone's edit of the control map are dropped", async () => {
    const o = provider(owner.cookie);
    const vcookie = await joinAsGuest((await invite('viewer')).token, 'Notes Viewer');
    const v = provider(vcookie);
    await Promise.all([o.synced, v.synced]);
    o.doc.getText('notes').insert(0, 'owner wrote this. ');
    expect(await until(() => v.doc.getText('notes').toString().includes('owner wrote this'))).toBe(true);
    v.doc.getText('notes').insert(0, 'VIEWER ');
    await new Promise((r) => setTimeout(r, 300));
    expect(o.doc.getText('notes').toString()).not.toContain('VIEWER');
    // Presence tells the truth about members: a viewer claiming the owner's name and id is shown as themself.
    v.p.awareness.setLocalStateField('user', { name: 'Olivia Owner', memberId: 'u:forged', color: '#fff' });
    const seen = () => [...o.p.awareness.getStates().values()].map((st) => (st as { user?: { name: string; memberId: string } }).user).filter(Boolean);
    expect(await until(() => seen().some((u) => u!.name === 'Notes Viewer'))).toBe(true);
    expect(seen().find((u) => u!.name === 'Notes Viewer')!.memberId).toMatch(/^g:/);
    expect(seen().some((u) => u!.memberId === 'u:forged')).toBe(false);
    o.doc.getMap('control').set('holder', 'u:forged');
    expect(await until(() => o.doc.getMap('control').get('holder') !== 'u:forged')).toBe(true);
    for (const x of [o, v]) {
      x.p.destroy();
      x.doc.destroy();
    }
  });
});

describe('HTTP routes', () => {
  it('need a session, a member, the right role; other rooms look like no room', async () => {
    expect((await call(srv, '/api/me/rooms')).status).toBe(401);
    expect((await as(srv, stranger.cookie, `/api/rooms/${roomId}/members`)).status).toBe(404);
    expect((await as(srv, stranger.cookie, `/api/rooms/${roomId}`, { method: 'PATCH', json: { name: 'mine now' } })).status).toBe(404);
    const viewer = await signUp(srv, 'Vic Viewer');
    await as(srv, viewer.cookie, `/api/invites/${(await invite('viewer')).token}/redeem`, { method: 'POST', json: {} });
    expect((await as(srv, viewer.cookie, `/api/rooms/${roomId}/members`)).status).toBe(200);
    expect((await as(srv, viewer.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', json: { role: 'viewer' } })).status).toBe(403);
    expect((await as(srv, viewer.cookie, `/api/rooms/${roomId}`, { method: 'DELETE', json: {} })).status).toBe(403);
    const shared = await as(srv, viewer.cookie, '/api/me/rooms');
    expect(shared.json.shared.map((r: { id: string }) => r.id)).toContain(roomId);
    expect(shared.json.owned).toEqual([]);
  });

  it('refuse cookie-authenticated writes that are not JSON or come from another origin (CSRF)', async () => {
    const form = await as(srv, owner.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', body: 'role=owner', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([form.status, form.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA']);
    const cross = await as(srv, owner.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', json: {}, headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
  });

  it('expired, used-up, revoked and forged invites each get their own answer', async () => {
    const stores = new InviteStore(srv.server.db, new MembershipStore(srv.server.db));
    const old = stores.create(owner.id, roomId, { ttlMs: 60_000, now: new Date(Date.now() - 24 * 3600_000) });
    expect((await call(srv, `/api/invites/${old.token}`)).json.error.code).toBe('INVITE_EXPIRED');
    const once = await invite('viewer', { maxUses: 1 });
    await joinAsGuest(once.token, 'First');
    const second = await call(srv, `/api/invites/${once.token}/redeem`, { method: 'POST', json: { name: 'Second' } });
    expect([second.status, second.json.error.code]).toEqual([410, 'INVITE_USED_UP']);
    expect((await call(srv, `/api/invites/${'A'.repeat(32)}`)).json.error.code).toBe('INVITE_NOT_FOUND');
    // A bad display name costs no use of the link.
    const twice = await invite('viewer', { maxUses: 1 });
    for (const name of ['', 'x'.repeat(65), 'evil\u001b[2J'])
      expect((await call(srv, `/api/invites/${twice.token}/redeem`, { method: 'POST', json: { name } })).json.error.code).toBe('BAD_NAME');
    await joinAsGuest(twice.token, '<script>alert(1)</script>');
    const list = await as(srv, owner.cookie, `/api/rooms/${roomId}/members`);
    expect(list.json.members.map((m: { name: string }) => m.name)).toContain('<script>alert(1)</script>');
  });

  it('sign-up refuses weak passwords, duplicate emails and oversized names', async () => {
    const up = (json: object) => call(srv, '/api/account/signup', { method: 'POST', json });
    expect((await up({ email: 'w@example.com', name: 'W', password: 'short' })).json.error.code).toBe('PASSWORD_TOO_SHORT');
    expect((await up({ email: 'w@example.com', name: 'W', password: 'password123' })).json.error.code).toBe('PASSWORD_TOO_SIMPLE');
    expect((await up({ email: 'not-an-email', name: 'W', password: 'correct horse battery 9' })).json.error.code).toBe('BAD_EMAIL');
    expect((await up({ email: 'w@example.com', name: 'x'.repeat(500), password: 'correct horse battery 9' })).json.error.code).toBe('BAD_NAME');
    // A taken email gets the same answer as a free one (no probing for accounts); it makes nothing.
    const dup = await up({ email: owner.email.toUpperCase(), name: 'Again', password: 'correct horse battery 9' });
    const fresh = await up({ email: `fresh-${Date.now()}@example.com`, name: 'Again', password: 'correct horse battery 9' });
    expect([dup.status, Object.keys(dup.json.user).sort()]).toEqual([fresh.status, Object.keys(fresh.json.user).sort()]);
    expect(dup.json.user.email).toBe(owner.email);
    expect(srv.server.accounts.getUser(dup.json.user.id)).toBeFalsy();
    expect(await srv.server.accounts.verifyCredentials(owner.email, 'correct horse battery 9')).toMatchObject({ id: owner.id });
  });

  it('rate limits guessing invite tokens', async () => {
    let last = 0;
    let n = 0;
    for (; n < INVITE_REDEEM_PER_IP.points + 10 && last !== 429; n++) last = (await call(srv, `/api/invites/${'B'.repeat(32)}`)).status;
    expect(last).toBe(429);
    expect(n).toBeLessThanOrEqual(INVITE_REDEEM_PER_IP.points + 1);
    const refused = await call(srv, `/api/invites/${'B'.repeat(32)}/redeem`, { method: 'POST', json: { name: 'x' } });
    expect([refused.status, Number(refused.headers.get('retry-after')) > 0]).toEqual([429, true]);
  });

  it('API tokens push commands to their own rooms only, and stop when revoked', async () => {
    const made = await as(srv, owner.cookie, '/api/me/tokens', { method: 'POST', json: { name: 'ci' } });
    expect(made.status).toBe(201);
    const bearer = { authorization: `Bearer ${made.json.token}` };
    const queued = await call(srv, `/api/rooms/${roomId}/commands?wait=false`, { method: 'POST', json: { cmd: 'true' }, headers: bearer });
    expect(queued.status, queued.text).toBe(202);
    expect((await call(srv, `/api/rooms/${otherRoomId}/commands?wait=false`, { method: 'POST', json: { cmd: 'true' }, headers: bearer })).status).toBe(404);
    expect((await as(srv, owner.cookie, '/api/me/tokens')).json.tokens.map((t: { name: string }) => t.name)).toEqual(['ci']);
    expect((await as(srv, stranger.cookie, `/api/me/tokens/${made.json.id}`, { method: 'DELETE', json: {} })).status).toBe(404);
    expect((await as(srv, owner.cookie, `/api/me/tokens/${made.json.id}`, { method: 'DELETE', json: {} })).status).toBe(204);
    expect((await call(srv, `/api/rooms/${roomId}/commands?wait=false`, { method: 'POST', json: { cmd: 'true' }, headers: bearer })).status).toBe(401);
    await call(srv, `/api/rooms/${roomId}/commands/${queued.json.id}`, { method: 'DELETE', headers: { authorization: 'Bearer e2e' } });
  });
});
