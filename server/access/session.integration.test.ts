import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { next, startServer, type ClientSocket } from '../testing/startServer';
import { as, signUp } from '../testing/accounts';
import { encodeSessionCookie, sessionCookieName } from '../auth/sessionJwt';

/** Sign-out and session revocation end that session's live connections (issue 9, weak spots). */
type Srv = Awaited<ReturnType<typeof startServer>>;
let srv: Srv;
beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off' });
});
afterAll(async () => {
  await srv?.close();
});

const yjs = (room: string, cookie: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/yjs/${room}`, { headers: { cookie } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
const closed = (ws: WebSocket) => new Promise<number>((res) => ws.once('close', (code) => res(code)));
const dropped = (s: ClientSocket) => new Promise<string>((res) => s.once('disconnect', (why) => res(why)));
const stillUp = <T>(p: Promise<T>) => Promise.race([p, new Promise((r) => setTimeout(() => r('still up'), 300))]);

describe('signed-out sessions (attacker: a stolen laptop keeps its tabs open)', () => {
  it('signing out cuts that session’s sockets and Yjs connections, live; the same user’s other session stays', async () => {
    const u = await signUp(srv, 'Lea Laptop');
    const room = (await as(srv, u.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Mine' } })).json.room.id;
    // A second session of the same user (another device).
    const sid2 = srv.server.sessions.create(u.id);
    const cookie2 = `${sessionCookieName(false)}=${await encodeSessionCookie({ userId: u.id, sid: sid2, name: 'Lea Laptop', email: u.email }, srv.server.secret, false)}`;
    const s1 = await srv.client(room, { cookie: u.cookie });
    const s2 = await srv.client(room, { cookie: cookie2, wantHost: false });
    await next(s1, 'room:state');
    await next(s2, 'room:state');
    const y1 = await yjs(room, u.cookie);
    const y2 = await yjs(room, cookie2);
    const gone1 = dropped(s1);
    const yGone1 = closed(y1);
    const err = next(s1, 'room:error');
    srv.server.sessions.end(u.sid);
    expect((await err).code).toBe('UNAUTHORIZED');
    expect(await gone1).toBe('io server disconnect');
    expect(await yGone1).toBe(4401);
    expect(await stillUp(dropped(s2))).toBe('still up');
    expect(await stillUp(closed(y2))).toBe('still up');
    // "Sign out everywhere" ends the rest.
    const gone2 = dropped(s2);
    const yGone2 = closed(y2);
    srv.server.sessions.endAll(u.id);
    expect(await gone2).toBe('io server disconnect');
    expect(await yGone2).toBe(4401);
  });
});
