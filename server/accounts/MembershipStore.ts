import { and, asc, count, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { memberships, rooms, users, type RoomRow } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import { canAssign, higher, isRole, ROLES, type Role } from './Roles';

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  since: Date;
}

export interface RoomOfUser {
  room: RoomRow;
  role: Role;
}

/** Caps on listings, so one request never reads a whole table. */
export const MAX_MEMBERS_LISTED = 1000;
export const MAX_ROOMS_LISTED = 500;

/** A role's rank as SQL, to order by (ROLES is a fixed list of plain words, safe to inline). */
const ROLE_RANK_SQL = sql`case ${memberships.role} ${sql.raw(ROLES.map((r, i) => `when '${r}' then ${i + 1}`).join(' '))} else 0 end`;

/**
 * Who holds which role in which room. The only source of authority: `rooms.ownerId` records the
 * creator for listings, nothing more. A room always keeps at least one owner once it has one;
 * rooms made before accounts have no members, and what that means is the caller's policy.
 */
export class MembershipStore {
  constructor(private db: Db) {}

  /** The user's role in the room, or null when not a member. */
  role(roomId: string, userId: string): Role | null {
    const row = this.db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
      .get();
    return row && isRole(row.role) ? row.role : null;
  }

  /**
   * Makes `userId` an owner of a room they just created, and records them as its creator when the
   * room has none. Not a permission check: call it only for the creating user.
   */
  addOwner(roomId: string, userId: string, now = new Date()): void {
    this.db.transaction(
      () => {
        if (!this.db.select({ id: rooms.id }).from(rooms).where(eq(rooms.id, roomId)).get()) throw new TandemError('ROOM_NOT_FOUND', 'no such room');
        this.db.update(rooms).set({ ownerId: userId }).where(and(eq(rooms.id, roomId), isNull(rooms.ownerId))).run();
        this.upsert(roomId, userId, 'owner', now);
      },
      { behavior: 'immediate' },
    );
  }

  /**
   * Adds a member or raises their role; never lowers it (a viewer link does not demote an
   * instructor who clicks it). Returns the role they now hold. Not a permission check: for
   * invite redemption, which has checked the invite.
   */
  grant(roomId: string, userId: string, role: Role, now = new Date(), inviteId: string | null = null): Role {
    return this.db.transaction(
      () => {
        const had = this.role(roomId, userId);
        const next = had ? higher(had, role) : role;
        if (next !== had) this.upsert(roomId, userId, next, now, inviteId);
        return next;
      },
      { behavior: 'immediate' },
    );
  }

  /**
   * `actorId` changes `targetId`'s role. FORBIDDEN unless Roles.canAssign allows it (only an owner
   * makes instructors or owners; instructors manage drivers and viewers); NOT_FOUND when the
   * target is not a member; LAST_OWNER when it would demote the room's only owner.
   */
  setRole(actorId: string, roomId: string, targetId: string, role: Role): void {
    if (!isRole(role)) throw new TandemError('BAD_MESSAGE', 'unknown role');
    this.db.transaction(
      () => {
        const { actor, from } = this.actorAndTarget(roomId, actorId, targetId);
        if (from === role) return;
        if (!canAssign(actor, from, role)) throw new TandemError('FORBIDDEN', `a ${actor} cannot change a ${from} to ${role}`);
        if (from === 'owner' && this.ownerCount(roomId) <= 1) throw new TandemError('LAST_OWNER', 'the room needs another owner first');
        // A role someone chose is no longer the link's: revoking the link must not take it away.
        this.db
          .update(memberships)
          .set({ role, inviteId: null })
          .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)))
          .run();
      },
      { behavior: 'immediate' },
    );
  }

  /** Both members' roles, or FORBIDDEN (actor not a member) / NOT_FOUND (no such target). */
  private actorAndTarget(roomId: string, actorId: string, targetId: string): { actor: Role; from: Role } {
    const actor = this.role(roomId, actorId);
    if (!actor) throw new TandemError('FORBIDDEN', 'not a member of this room');
    const from = this.role(roomId, targetId);
    if (!from) throw new TandemError('NOT_FOUND', 'no such member');
    return { actor, from };
  }

  /** `actorId` removes `targetId` (or themself: leaving). Same rules as setRole. */
  remove(actorId: string, roomId: string, targetId: string): void {
    this.db.transaction(
      () => {
        const { actor, from } = this.actorAndTarget(roomId, actorId, targetId);
        if (actorId !== targetId && !canAssign(actor, from, null)) throw new TandemError('FORBIDDEN', `a ${actor} cannot remove a ${from}`);
        if (from === 'owner' && this.ownerCount(roomId) <= 1) throw new TandemError('LAST_OWNER', 'the room needs another owner first');
        this.db
          .delete(memberships)
          .where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)))
          .run();
      },
      { behavior: 'immediate' },
    );
  }

  /** Rooms where the user holds one of `roles` (e.g. those that may push commands). */
  roomIdsWithRole(userId: string, roles: readonly Role[]): string[] {
    return this.db
      .select({ roomId: memberships.roomId })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), inArray(memberships.role, [...roles])))
      .all()
      .map((r) => r.roomId);
  }

  /** Highest role first, then longest-standing. */
  members(roomId: string, limit = MAX_MEMBERS_LISTED): Member[] {
    return this.db
      .select({ userId: memberships.userId, email: users.email, name: users.name, role: memberships.role, since: memberships.createdAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.roomId, roomId))
      .orderBy(desc(ROLE_RANK_SQL), asc(memberships.createdAt))
      .limit(Math.min(limit, MAX_MEMBERS_LISTED))
      .all();
  }

  /** The user's rooms, newest first, split into those they own and those shared with them. Archived ones only on request. */
  roomsOf(userId: string, opts: { includeArchived?: boolean; limit?: number } = {}): { owned: RoomOfUser[]; shared: RoomOfUser[] } {
    const rows = this.db
      .select({ room: rooms, role: memberships.role })
      .from(memberships)
      .innerJoin(rooms, eq(rooms.id, memberships.roomId))
      .where(opts.includeArchived ? eq(memberships.userId, userId) : and(eq(memberships.userId, userId), isNull(rooms.archivedAt)))
      .orderBy(desc(rooms.createdAt))
      .limit(Math.min(opts.limit ?? MAX_ROOMS_LISTED, MAX_ROOMS_LISTED))
      .all();
    return { owned: rows.filter((r) => r.role === 'owner'), shared: rows.filter((r) => r.role !== 'owner') };
  }

  private ownerCount(roomId: string): number {
    return this.db
      .select({ n: count() })
      .from(memberships)
      .where(and(eq(memberships.roomId, roomId), eq(memberships.role, 'owner')))
      .get()!.n;
  }

  /** `inviteId`: the link that gave this role; revoking the link takes the membership away. */
  private upsert(roomId: string, userId: string, role: Role, now: Date, inviteId: string | null = null): void {
    this.db
      .insert(memberships)
      .values({ roomId, userId, role, createdAt: now, inviteId })
      .onConflictDoUpdate({ target: [memberships.roomId, memberships.userId], set: { role, inviteId } })
      .run();
  }

  /**
   * Removes everyone whose membership came from `inviteId` (the link was revoked) and holds one of
   * `roles` (those the revoker may remove; never owners); returns their user ids.
   */
  removeByInvite(inviteId: string, roles: readonly Role[]): string[] {
    const removable = roles.filter((r) => r !== 'owner');
    if (!removable.length) return [];
    return this.db
      .delete(memberships)
      .where(and(eq(memberships.inviteId, inviteId), inArray(memberships.role, removable)))
      .returning({ userId: memberships.userId })
      .all()
      .map((r) => r.userId);
  }
}
