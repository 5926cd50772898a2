import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { memberships, rooms, users } from '../../drizzle/schema';
import { RoomStore } from '../rooms/RoomStore';
import { MembershipStore } from './MembershipStore';
import type { Role } from './Roles';
import { tempDb } from './tempDb';
import { errorCode } from '../testing/errorCode';

let t: ReturnType<typeof tempDb>;
let store: MembershipStore;
let roomStore: RoomStore;
let room: string;
let other: string;
beforeEach(() => {
  t = tempDb();
  store = new MembershipStore(t.db);
  roomStore = new RoomStore(t.db);
  room = roomStore.create('Class A').id;
  other = roomStore.create('Class B').id;
  let n = 0;
  for (const id of ['olga', 'oscar', 'ines', 'ivan', 'dora', 'vic', 'val', 'stranger'])
    t.db.insert(users).values({ id, email: `${id}@example.com`, name: id, passwordHash: null, createdAt: new Date(1000 + n++) }).run();
  store.addOwner(room, 'olga', new Date(1));
  const cast: [string, Role][] = [
    ['ines', 'instructor'],
    ['ivan', 'instructor'],
    ['dora', 'driver'],
    ['vic', 'viewer'],
    ['val', 'viewer'],
  ];
  for (const [i, [u, r]] of cast.entries()) store.grant(room, u, r, new Date(10 + i));
});
afterEach(() => t.close());

const code = errorCode;

describe('MembershipStore', () => {
  it('addOwner makes the creator an owner and records them on the room once', () => {
    expect(store.role(room, 'olga')).toBe('owner');
    expect(t.db.select().from(rooms).where(eq(rooms.id, room)).get()!.ownerId).toBe('olga');
    store.addOwner(room, 'oscar');
    expect(store.role(room, 'oscar')).toBe('owner');
    expect(t.db.select().from(rooms).where(eq(rooms.id, room)).get()!.ownerId).toBe('olga');
    expect(code(() => store.addOwner('no-such-room', 'olga'))).toBe('ROOM_NOT_FOUND');
  });

  it('grant adds or raises, never lowers', () => {
    expect(store.grant(room, 'stranger', 'viewer')).toBe('viewer');
    expect(store.grant(room, 'stranger', 'driver')).toBe('driver');
    expect(store.grant(room, 'stranger', 'viewer')).toBe('driver');
    expect(store.grant(room, 'ines', 'viewer')).toBe('instructor');
    expect(store.role(room, 'ines')).toBe('instructor');
  });

  it('roles are per room', () => {
    expect(store.role(other, 'olga')).toBeNull();
    expect(store.role(room, 'stranger')).toBeNull();
    expect(code(() => store.setRole('olga', other, 'vic', 'driver'))).toBe('FORBIDDEN');
    expect(code(() => store.setRole('ines', other, 'vic', 'driver'))).toBe('FORBIDDEN');
  });

  it('owners promote to instructor and owner', () => {
    store.setRole('olga', room, 'vic', 'instructor');
    expect(store.role(room, 'vic')).toBe('instructor');
    store.setRole('olga', room, 'ines', 'owner');
    expect(store.role(room, 'ines')).toBe('owner');
  });

  it('instructors manage drivers and viewers only', () => {
    store.setRole('ines', room, 'vic', 'driver');
    expect(store.role(room, 'vic')).toBe('driver');
    store.setRole('ines', room, 'dora', 'viewer');
    expect(store.role(room, 'dora')).toBe('viewer');
    expect(code(() => store.setRole('ines', room, 'val', 'instructor'))).toBe('FORBIDDEN');
    expect(code(() => store.setRole('ines', room, 'val', 'owner'))).toBe('FORBIDDEN');
    expect(code(() => store.setRole('ines', room, 'ivan', 'viewer'))).toBe('FORBIDDEN');
    expect(code(() => store.setRole('ines', room, 'olga', 'viewer'))).toBe('FORBIDDEN');
    expect(code(() => store.setRole('ines', room, 'ines', 'owner'))).toBe('FORBIDDEN');
    expect(store.role(room, 'val')).toBe('viewer');
    expect(store.role(room, 'olga')).toBe('owner');
  });

  it('drivers, viewers and strangers change nothing, not even themselves', () => {
    for (const [actor, target, role] of [
      ['dora', 'vic', 'driver'],
      ['dora', 'dora', 'instructor'],
      ['vic', 'vic', 'driver'],
      ['vic', 'val', 'driver'],
      ['stranger', 'vic', 'owner'],
      ['stranger', 'stranger', 'owner'],
    ] as const)
      expect(code(() => store.setRole(actor, room, target, role)), `${actor}→${target}`).toMatch(/FORBIDDEN|NOT_FOUND/);
    expect(store.members(room).map((m) => [m.userId, m.role])).toEqual([
      ['olga', 'owner'],
      ['ines', 'instructor'],
      ['ivan', 'instructor'],
      ['dora', 'driver'],
      ['vic', 'viewer'],
      ['val', 'viewer'],
    ]);
  });

  it('refuses a made-up role and an unknown target', () => {
    expect(code(() => store.setRole('olga', room, 'vic', 'admin' as Role))).toBe('BAD_MESSAGE');
    expect(code(() => store.setRole('olga', room, 'stranger', 'viewer'))).toBe('NOT_FOUND');
    expect(code(() => store.setRole('olga', room, 'nobody-at-all', 'viewer'))).toBe('NOT_FOUND');
  });

  it('the last owner cannot be demoted or leave; with a second owner they can', () => {
    expect(code(() => store.setRole('olga', room, 'olga', 'instructor'))).toBe('LAST_OWNER');
    expect(code(() => store.remove('olga', room, 'olga'))).toBe('LAST_OWNER');
    store.setRole('olga', room, 'ines', 'owner');
    store.setRole('olga', room, 'olga', 'instructor'); // step down
    expect(store.role(room, 'olga')).toBe('instructor');
    expect(code(() => store.setRole('ines', room, 'ines', 'viewer'))).toBe('LAST_OWNER');
    expect(code(() => store.setRole('olga', room, 'ines', 'viewer'))).toBe('FORBIDDEN');
    expect(store.role(room, 'ines')).toBe('owner');
  });

  it('remove: leaving is always allowed (but for the last owner); removing others follows setRole’s rules', () => {
    store.remove('val', room, 'val');
    expect(store.role(room, 'val')).toBeNull();
    store.remove('ines', room, 'vic');
    expect(store.role(room, 'vic')).toBeNull();
    expect(code(() => store.remove('ines', room, 'ivan'))).toBe('FORBIDDEN');
    expect(code(() => store.remove('ines', room, 'olga'))).toBe('FORBIDDEN');
    expect(code(() => store.remove('dora', room, 'vic'))).toBe('NOT_FOUND'); // vic already gone; dora may not anyway
    expect(code(() => store.remove('stranger', room, 'dora'))).toBe('FORBIDDEN');
    store.remove('olga', room, 'ines');
    expect(store.role(room, 'ines')).toBeNull();
  });

  it('roomsOf splits owned from shared, newest first, and hides archived rooms unless asked', () => {
    store.addOwner(other, 'ines');
    store.grant(other, 'olga', 'driver');
    const mine = store.roomsOf('olga');
    expect(mine.owned.map((r) => [r.room.id, r.role])).toEqual([[room, 'owner']]);
    expect(mine.shared.map((r) => [r.room.id, r.role])).toEqual([[other, 'driver']]);
    const ines = store.roomsOf('ines');
    expect(ines.owned.map((r) => r.room.name)).toEqual(['Class B']);
    expect(ines.shared.map((r) => r.room.name)).toEqual(['Class A']);
    t.db.update(rooms).set({ archivedAt: new Date() }).where(eq(rooms.id, other)).run();
    expect(store.roomsOf('ines').owned).toEqual([]);
    expect(store.roomsOf('ines', { includeArchived: true }).owned.map((r) => r.room.archivedAt)).toEqual([expect.any(Date)]);
    expect(store.roomsOf('stranger')).toEqual({ owned: [], shared: [] });
  });

  it('deleting a user or a room removes their memberships; a deleted creator leaves ownerId null', () => {
    t.db.delete(users).where(eq(users.id, 'olga')).run();
    expect(store.role(room, 'olga')).toBeNull();
    expect(t.db.select().from(rooms).where(eq(rooms.id, room)).get()!.ownerId).toBeNull();
    t.db.delete(rooms).where(eq(rooms.id, room)).run();
    expect(t.db.select().from(memberships).where(eq(memberships.roomId, room)).all()).toEqual([]);
  });
});
