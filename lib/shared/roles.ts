import { z } from 'zod';

/**
 * The membership roles, ascending by rank: each can do everything the ones before it can. The one
 * table: the database column (drizzle/schema.ts), the server's checks (server/accounts/Roles.ts)
 * and the page's controls (lib/browser/client) all read it.
 */
export const ROLES = ['viewer', 'driver', 'instructor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles in a room, lowest first; each can do everything the ones below it can:
 * - viewer: watches the terminal and notes (the default for invitees)
 * - driver: may also type into the terminal
 * - instructor: may also host the VM, push commands, manage invites and members below instructor
 * - owner: may also promote to instructor/owner, rename and delete the room
 */
export const ROLE_RANK: Readonly<Record<Role, number>> = Object.fromEntries(ROLES.map((r, i) => [r, i])) as Record<Role, number>;

export const roleSchema = z.enum(ROLES);

export const ACTIONS = ['view', 'type', 'host', 'pushCommands', 'manageInvites', 'manageMembers', 'renameRoom', 'deleteRoom'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * The least role allowed each action. A room could later override some (say, let drivers host) by
 * passing its own table to `can`.
 */
export const DEFAULT_MIN_ROLE: Readonly<Record<Action, Role>> = {
  view: 'viewer',
  type: 'driver',
  host: 'instructor',
  pushCommands: 'instructor',
  manageInvites: 'instructor',
  manageMembers: 'instructor',
  renameRoom: 'owner',
  deleteRoom: 'owner',
};

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** True when `role` ranks at least `min`. A missing role (not a member) is below every role. */
export function atLeast(role: Role | null | undefined, min: Role): boolean {
  return role != null && ROLE_RANK[role] >= ROLE_RANK[min];
}

/** May someone holding `role` (null: not a member) do `action`? */
export function can(role: Role | null | undefined, action: Action, minRole: Readonly<Record<Action, Role>> = DEFAULT_MIN_ROLE): boolean {
  return atLeast(role, minRole[action]);
}

/**
 * May `actor` change a member from `from` (null: not yet a member) to `to` (null: remove them)?
 * Owners may make any change (the last-owner rule is the store's, it needs the other members).
 * Below owner, `manageMembers` lets one move members strictly below oneself to roles strictly
 * below oneself: an instructor can make a viewer a driver, never another instructor or owner.
 */
export function canAssign(actor: Role | null | undefined, from: Role | null, to: Role | null): boolean {
  if (!can(actor, 'manageMembers')) return false;
  if (actor === 'owner') return true;
  const mine = ROLE_RANK[actor!];
  return (from === null || ROLE_RANK[from] < mine) && (to === null || ROLE_RANK[to] < mine);
}

/** The higher of two roles (a second invite never lowers what someone already has). */
export function higher(a: Role, b: Role): Role {
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}
