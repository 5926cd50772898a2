import { describe, expect, it } from 'vitest';
import { canAssign as serverCanAssign, ROLES } from '../../../server/accounts/Roles';
import { canAssign, invitableRoles } from './roles';

describe('client canAssign', () => {
  it('agrees with the server rule in every cell', () => {
    const roles = [...ROLES, null] as const;
    for (const actor of roles) for (const from of roles) for (const to of roles) expect(canAssign(actor, from, to)).toBe(serverCanAssign(actor, from, to));
  });
  it('lets an instructor invite only viewers and drivers', () => {
    expect(invitableRoles('instructor')).toEqual(['viewer', 'driver']);
    expect(invitableRoles('owner')).toEqual(['viewer', 'driver', 'instructor', 'owner']);
    expect(invitableRoles('driver')).toEqual([]);
  });
});
