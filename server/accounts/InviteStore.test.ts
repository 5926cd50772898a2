import crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { invites, rooms, users } from '../../drizzle/schema';
import { RoomStore } from '../rooms/RoomStore';
import { DEFAULT_INVITE_TTL_MS, INVITE_EXPIRY_GRACE_MS, InviteStore, MAX_INVITE_TTL_MS } from './InviteStore';
import { MembershipStore } from './MembershipStore';
import type { Role } from './Roles';
import { tempDb } from './tempDb';
import { errorCode } from '../testing/errorCode';

let t: ReturnType<typeof tempDb>;
let members: MembershipStore;
let store: InviteStore;
let room: string;
let other: string;
const T0 = new Date('2030-01-01T12:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

beforeEach(() => {
  t = tempDb();
  members = new MembershipStore(t.db);
  store = new InviteStore(t.db, members);
  const roomStore = new RoomStore(t.db);
  room = roomStore.create('Class').id;
  other = roomStore.create('Other').id;
  for (const id of ['olga', 'ines', 'dora', 'vic', 'new1', 'new2', 'new3'])
    t.db.insert(users).values({ id, email: `${id}@example.com`, name: id, passwordHash: null, createdAt: T0 }).run();
  members.addOwner(room, 'olga');
  members.grant(room, 'ines', 'instructor');
  members.grant(room, 'dora', 'driver');
  members.grant(room, 'vic', 'viewer');
});
afterEach(() => t.close());

const code = errorCode;

describe('InviteStore.create', () => {
  it('makes a 192-bit base64url token, stores only its SHA-256, defaults to viewer for 7 days', () => {
    const { invite, token } = store.create('ines', room, { now: T0 });
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(24);
    expect(invite).toMatchObject({ roomId: room, role: 'viewer', uses: 0, maxUses: null, revokedAt: null, createdBy: 'ines' });
    expect(invite.expiresAt.getTime() - T0.getTime()).toBe(DEFAULT_INVITE_TTL_MS);
    expect(Object.keys(invite)).not.toContain('tokenHash');
    const row = t.db.select().from(invites).where(eq(invites.id, invite.id)).get()!;
    expect(row.tokenHash).toBe(crypto.createHash('sha256').update(token).digest('hex'));
    const dump = JSON.stringify(t.db.$client.prepare('select * from invites').all());
    expect(dump).not.toContain(token);
  });

  it('tokens are distinct', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => store.create('olga', room).token));
    expect(tokens.size).toBe(200);
  });

  it('only owners and instructors invite; instructors only drivers and viewers', () => {
    expect(code(() => store.create('olga', room, { role: 'owner' }))).toBe('ok');
    expect(code(() => store.create('olga', room, { role: 'instructor' }))).toBe('ok');
    expect(code(() => store.create('ines', room, { role: 'driver' }))).toBe('ok');
    expect(code(() => store.create('ines', room, { role: 'instructor' }))).toBe('FORBIDDEN');
    expect(code(() => store.create('ines', room, { role: 'owner' }))).toBe('FORBIDDEN');
    expect(code(() => store.create('dora', room))).toBe('FORBIDDEN');
    expect(code(() => store.create('vic', room))).toBe('FORBIDDEN');
    expect(code(() => store.create('new1', room))).toBe('FORBIDDEN');
    expect(code(() => store.create('olga', other))).toBe('FORBIDDEN'); // owner elsewhere only
  });

  it('validates role, lifetime and use count', () => {
    for (const opts of [
      { role: 'admin' as Role },
      { ttlMs: 0 },
      { ttlMs: -1 },
      { ttlMs: 1.5 },
      { ttlMs: MAX_INVITE_TTL_MS + 1 },
      { ttlMs: Infinity },
      { maxUses: 0 },
      { maxUses: -3 },
      { maxUses: 2.5 },
      { maxUses: 1e9 },
    ])
      expect(code(() => store.create('olga', room, opts)), JSON.stringify(opts)).toBe('BAD_MESSAGE');
  });
});

describe('InviteStore.redeem', () => {
  it('gives the invite’s role in its room and counts the use', () => {
    const { invite, token } = store.create('ines', room, { role: 'driver', now: T0 });
    expect(store.redeem(token, { userId: 'new1', now: at(1000) })).toEqual({ roomId: room, role: 'driver', inviteId: invite.id });
    expect(members.role(room, 'new1')).toBe('driver');
    expect(members.role(other, 'new1')).toBeNull();
    expect(store.list(room)[0].uses).toBe(1);
  });

  it('anonymous redemption returns the role and counts every time', () => {
    const { token } = store.create('ines', room, { maxUses: 2 });
    expect(store.redeem(token)).toMatchObject({ roomId: room, role: 'viewer' });
    expect(store.redeem(token)).toMatchObject({ roomId: room, role: 'viewer' });
    expect(code(() => store.redeem(token))).toBe('USED_UP');
  });

  it('never lowers a member’s role, and a member re-clicking the link does not use it up', () => {
    const { token } = store.create('olga', room, { maxUses: 1 });
    expect(store.redeem(token, { userId: 'ines' })).toMatchObject({ role: 'instructor' });
    expect(members.role(room, 'ines')).toBe('instructor');
    expect(store.redeem(token, { userId: 'new1' })).toMatchObject({ role: 'viewer' });
    expect(store.redeem(token, { userId: 'new1' })).toMatchObject({ role: 'viewer' }); // already has it
    expect(code(() => store.redeem(token, { userId: 'new2' }))).toBe('USED_UP');
    expect(store.list(room)[0].uses).toBe(1);
  });

  it('raises a member whose role is lower than the invite’s', () => {
    const { token } = store.create('ines', room, { role: 'driver' });
    expect(store.redeem(token, { userId: 'vic' })).toMatchObject({ role: 'driver' });
    expect(members.role(room, 'vic')).toBe('driver');
  });

  it('NOT_FOUND for forged, unknown, malformed and non-string tokens', () => {
    const { token } = store.create('olga', room);
    const flipped = token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A');
    const forged = [
      flipped,
      crypto.randomBytes(24).toString('base64url'),
      token.slice(0, -1),
      token + 'A',
      token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
      ` ${token}`,
      crypto.createHash('sha256').update(token).digest('hex'), // the stored hash is not a token
      '',
      "' OR 1=1 --",
      '../../etc/passwd',
      'x'.repeat(1_000_000),
      null,
      undefined,
      42,
      { token },
      [token],
    ];
    for (const f of forged) expect(code(() => store.redeem(f, { userId: 'new1' })), String(f).slice(0, 40)).toBe('NOT_FOUND');
    expect(members.role(room, 'new1')).toBeNull();
    expect(store.list(room)[0].uses).toBe(0);
  });

  it('EXPIRED after expiry plus the clock-skew grace, not before', () => {
    const { token, invite } = store.create('olga', room, { ttlMs: 60_000, now: T0 });
    const end = invite.expiresAt.getTime() - T0.getTime();
    expect(code(() => store.redeem(token, { now: at(end + INVITE_EXPIRY_GRACE_MS) }))).toBe('ok');
    expect(code(() => store.redeem(token, { userId: 'new1', now: at(end + INVITE_EXPIRY_GRACE_MS + 1) }))).toBe('EXPIRED');
    expect(code(() => store.redeem(token, { now: at(365 * 24 * 3600 * 1000) }))).toBe('EXPIRED');
    expect(members.role(room, 'new1')).toBeNull();
  });

  it('REVOKED once revoked, whatever else holds; revoking keeps the first time', () => {
    const { token, invite } = store.create('ines', room, { now: T0 });
    store.redeem(token, { userId: 'new1', now: at(1) });
    store.revoke('ines', room, invite.id, at(10));
    store.revoke('olga', room, invite.id, at(20));
    expect(store.list(room)[0].revokedAt).toEqual(at(10));
    expect(code(() => store.redeem(token, { userId: 'new2', now: at(30) }))).toBe('REVOKED');
    expect(members.role(room, 'new2')).toBeNull();
    expect(members.role(room, 'new1')).toBe('viewer'); // revoking an invite does not remove who used it
  });

  it('USED_UP at maxUses, however many try at once in this process', async () => {
    const { token } = store.create('olga', room, { maxUses: 2 });
    const outcomes = await Promise.all(['new1', 'new2', 'new3', 'dora', 'vic'].map(async (userId) => code(() => store.redeem(token, { userId }))));
    // dora (driver) and vic (viewer) already hold viewer or more: they pass without using it up.
    expect(outcomes).toEqual(['ok', 'ok', 'USED_UP', 'ok', 'ok']);
    expect(store.list(room)[0].uses).toBe(2);
  });

  it('an invite to a deleted room is gone', () => {
    const { token } = store.create('olga', room);
    t.db.delete(rooms).where(eq(rooms.id, room)).run();
    expect(code(() => store.redeem(token))).toBe('NOT_FOUND');
  });
});

describe('InviteStore.revoke / list', () => {
  it('revoke needs the same rights as creating; other rooms’ invites are NOT_FOUND', () => {
    const owners = store.create('olga', room, { role: 'instructor' });
    const viewers = store.create('ines', room);
    expect(code(() => store.revoke('ines', room, owners.invite.id))).toBe('FORBIDDEN');
    expect(code(() => store.revoke('dora', room, viewers.invite.id))).toBe('FORBIDDEN');
    expect(code(() => store.revoke('new1', room, viewers.invite.id))).toBe('FORBIDDEN');
    members.addOwner(other, 'olga');
    expect(code(() => store.revoke('olga', other, viewers.invite.id))).toBe('NOT_FOUND');
    expect(code(() => store.revoke('olga', room, 'nope'))).toBe('NOT_FOUND');
    expect(code(() => store.revoke('olga', room, owners.invite.id))).toBe('ok');
    expect(code(() => store.revoke('ines', room, viewers.invite.id))).toBe('ok');
  });

  it('lists a room’s invites newest first, without hashes', () => {
    store.create('olga', room, { now: at(1) });
    store.create('olga', room, { now: at(2), role: 'driver' });
    members.addOwner(other, 'olga');
    store.create('olga', other, { now: at(3) });
    const list = store.list(room);
    expect(list.map((i) => i.role)).toEqual(['driver', 'viewer']);
    for (const i of list) expect(Object.keys(i)).not.toContain('tokenHash');
  });
});
