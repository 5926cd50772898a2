import { describe, expect, it } from 'vitest';
import { ACTIONS, atLeast, can, canAssign, DEFAULT_MIN_ROLE, higher, isRole, ROLES, roleSchema, type Action, type Role } from './Roles';

const table: Record<Role, Action[]> = {
  viewer: ['view'],
  driver: ['view', 'type'],
  instructor: ['view', 'type', 'host', 'pushCommands', 'manageInvites', 'manageMembers'],
  owner: [...ACTIONS],
};

describe('Roles', () => {
  it.each(ROLES)('%s may do exactly its actions', (role) => {
    expect(ACTIONS.filter((a) => can(role, a))).toEqual(table[role]);
  });

  it('each role can do everything the ones below it can (owner ⊇ instructor ⊇ driver ⊇ viewer)', () => {
    for (let i = 1; i < ROLES.length; i++) for (const a of ACTIONS) if (can(ROLES[i - 1], a)) expect(can(ROLES[i], a), `${ROLES[i]} ${a}`).toBe(true);
  });

  it('a non-member, or a made-up role, can do nothing', () => {
    for (const a of ACTIONS) {
      expect(can(null, a)).toBe(false);
      expect(can(undefined, a)).toBe(false);
      expect(can('admin' as Role, a)).toBe(false);
      expect(can('__proto__' as Role, a)).toBe(false);
    }
  });

  it('takes a per-room table (e.g. drivers may host)', () => {
    expect(can('driver', 'host')).toBe(false);
    expect(can('driver', 'host', { ...DEFAULT_MIN_ROLE, host: 'driver' })).toBe(true);
  });

  it('validates roles from the outside', () => {
    expect(isRole('viewer')).toBe(true);
    for (const x of ['Owner', 'admin', '', null, 3, 'toString', '__proto__']) expect(isRole(x)).toBe(false);
    expect(roleSchema.safeParse('instructor').success).toBe(true);
    expect(roleSchema.safeParse('root').success).toBe(false);
    expect(atLeast('owner', 'viewer')).toBe(true);
    expect(atLeast('viewer', 'driver')).toBe(false);
    expect(higher('driver', 'viewer')).toBe('driver');
    expect(higher('viewer', 'owner')).toBe('owner');
  });

  it('canAssign: owners anything; instructors only below themselves; others nothing', () => {
    expect(canAssign('owner', 'viewer', 'owner')).toBe(true);
    expect(canAssign('owner', 'owner', 'viewer')).toBe(true);
    expect(canAssign('instructor', 'viewer', 'driver')).toBe(true);
    expect(canAssign('instructor', null, 'viewer')).toBe(true);
    expect(canAssign('instructor', 'driver', null)).toBe(true);
    expect(canAssign('instructor', 'viewer', 'instructor')).toBe(false);
    expect(canAssign('instructor', 'instructor', 'viewer')).toBe(false);
    expect(canAssign('instructor', 'owner', null)).toBe(false);
    expect(canAssign('driver', 'viewer', 'viewer')).toBe(false);
    expect(canAssign('viewer', 'viewer', 'driver')).toBe(false);
    expect(canAssign(null, null, 'viewer')).toBe(false);
  });
});
