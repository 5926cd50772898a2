import { ROLES, canAssign, type Role } from '../../shared/roles';

/** The server's own rule (lib/shared/roles.ts), used here only to hide controls that would be refused. */
export { canAssign };

/** Roles `actor` may hand out through an invite. */
export function invitableRoles(actor: Role | null | undefined): Role[] {
  return ROLES.filter((r) => canAssign(actor, null, r));
}
