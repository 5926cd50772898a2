import { MEMBER_ROLES, ROLE_RANK, type MemberRole } from './accountsApi';

/**
 * May `actor` move a member from `from` to `to` (null: remove)? Mirrors the server's rule
 * (server/accounts/Roles.ts canAssign) only to hide controls that would be refused; the server decides.
 */
export function canAssign(actor: MemberRole | null | undefined, from: MemberRole | null, to: MemberRole | null): boolean {
  if (actor !== 'owner' && actor !== 'instructor') return false;
  if (actor === 'owner') return true;
  const mine = ROLE_RANK[actor];
  return (from === null || ROLE_RANK[from] < mine) && (to === null || ROLE_RANK[to] < mine);
}

/** Roles `actor` may hand out through an invite. */
export function invitableRoles(actor: MemberRole | null | undefined): MemberRole[] {
  return MEMBER_ROLES.filter((r) => canAssign(actor, null, r));
}
