import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { next, startServer, type ClientSocket } from '../testing/startServer';
import { as, cookieFrom, signUp } from '../testing/accounts';
import { call, type Json } from '../testing/http';

/**
 * Attacker tests for lateral removal (issue 9, hole 5): revoking an invite link removes only the
 * people the revoker may remove, and a role change detaches a membership from the link it came by.
 */
type Srv = Awaited<ReturnType<typeof startServer>>;
type User = Awaited<ReturnType<typeof signUp>>;
let srv: Srv;
let owner: User;
let roomId: string;

beforeAll(async () => {
  srv = await startServer({ HEADLESS: 'off' });
  owner = await signUp(srv, 'Olga Owner');
  roomId = (await as(srv, owner.cookie, '/api/me/rooms', { method: 'POST', json: { name: 'Course' } })).json.room.id;
});
afterAll(async () => {
  await srv?.close();
});
afterEach(() => srv.disconnectAll());

async function invite(by: User, role: string) {
  const r = await as(srv, by.cookie, `/api/rooms/${roomId}/invites`, { method: 'POST', json: { role } });
  expect(r.status, r.text).toBe(201);
  return r.json as { token: string; invite: { id: string } };
}
const redeem = (u: User, token: string) => as(srv, u.cookie, `/api/invites/${token}/redeem`, { method: 'POST', json: {} });
const setRole = (by: User, memberId: string, role: string) => as(srv, by.cookie, `/api/rooms/${roomId}/members/${memberId}`, { method: 'PATCH', json: { role } });
const revoke = (by: User, inviteId: string) => as(srv, by.cookie, `/api/rooms/${roomId}/invites/${inviteId}`, { method: 'DELETE', json: {} });
async function roles(): Promise<Record<string, string>> {
  const r = await as(srv, owner.cookie, `/api/rooms/${roomId}/members`);
  return Object.fromEntries(r.json.members.map((m: Json) => [m.memberId, m.role]));
}
async function live(cookie: string): Promise<{ s: ClientSocket; gone: Promise<string> }> {
  const s = await srv.client(roomId, { cookie, wantHost: false });
  await next(s, 'room:state');
  return { s, gone: new Promise((res) => s.once('disconnect', (why) => res(why))) };
}

describe('lateral removal (attacker)', () => {
  it('an instructor cannot remove a fellow instructor by revoking the link that person first joined with', async () => {
    const alice = await signUp(srv, 'Alice Instructor');
    const bob = await signUp(srv, 'Bob Instructor');
    await redeem(alice, (await invite(owner, 'instructor')).token);
    // Bob comes in as a viewer through Alice's link, then the owner promotes him.
    const viewerLink = await invite(alice, 'viewer');
    expect((await redeem(bob, viewerLink.token)).json.role).toBe('viewer');
    expect((await setRole(owner, `u:${bob.id}`, 'instructor')).status).toBe(200);
    const bobLive = await live(bob.cookie);
    expect((await revoke(alice, viewerLink.invite.id)).status).toBe(204);
    expect((await roles())[`u:${bob.id}`]).toBe('instructor');
    const still = await Promise.race([bobLive.gone, new Promise((r) => setTimeout(() => r('connected'), 300))]);
    expect(still).toBe('connected');
    expect((await as(srv, bob.cookie, `/api/rooms/${roomId}/members`)).status).toBe(200);
  });

  it('a demotion detaches too: the person demoted stays after their first link is revoked', async () => {
    const carol = await signUp(srv, 'Carol Driver');
    const link = await invite(owner, 'driver');
    await redeem(carol, link.token);
    expect((await setRole(owner, `u:${carol.id}`, 'viewer')).status).toBe(200);
    expect((await revoke(owner, link.invite.id)).status).toBe(204);
    expect((await roles())[`u:${carol.id}`]).toBe('viewer');
  });

  it('a guest whose role was changed is no longer tied to the link; untouched guests and members still go', async () => {
    const link = await invite(owner, 'viewer');
    const promoted = cookieFrom((await call(srv, `/api/invites/${link.token}/redeem`, { method: 'POST', json: { name: 'Pia Promoted' } })).headers.get('set-cookie'));
    const plain = cookieFrom((await call(srv, `/api/invites/${link.token}/redeem`, { method: 'POST', json: { name: 'Pete Plain' } })).headers.get('set-cookie'));
    const dan = await signUp(srv, 'Dan Viewer');
    await redeem(dan, link.token);
    const promotedLive = await live(promoted);
    const plainLive = await live(plain);
    const members = (await as(srv, owner.cookie, `/api/rooms/${roomId}/members`)).json.members as Json[];
    const pia = members.find((m) => m.name === 'Pia Promoted')!;
    expect((await setRole(owner, pia.memberId, 'driver')).status).toBe(200);
    expect((await revoke(owner, link.invite.id)).status).toBe(204);
    expect(await plainLive.gone).toBe('io server disconnect');
    const after = await roles();
    expect(after[pia.memberId]).toBe('driver');
    expect(after[`u:${dan.id}`]).toBeUndefined();
    expect(members.find((m) => m.name === 'Pete Plain')!.memberId in after).toBe(false);
    const still = await Promise.race([promotedLive.gone, new Promise((r) => setTimeout(() => r('connected'), 300))]);
    expect(still).toBe('connected');
  });

  it('rows from before the fix (an instructor still tied to a viewer link) survive a fellow instructor revoking it', async () => {
    const ann = await signUp(srv, 'Ann Instructor');
    const ben = await signUp(srv, 'Ben Instructor');
    await redeem(ann, (await invite(owner, 'instructor')).token);
    const link = await invite(ann, 'viewer');
    await redeem(ben, link.token);
    // As a promotion made before this fix left it: the role raised, the link still recorded.
    srv.server.db.$client.prepare('UPDATE memberships SET role = ? WHERE user_id = ?').run('instructor', ben.id);
    expect((await revoke(ann, link.invite.id)).status).toBe(204);
    expect((await roles())[`u:${ben.id}`]).toBe('instructor');
  });
});
