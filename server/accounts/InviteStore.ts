import crypto from 'node:crypto';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { invites, type InviteRow } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import type { MembershipStore } from './MembershipStore';
import { atLeast, can, canAssign, isRole, type Role } from './Roles';

/** 192 random bits, 32 base64url characters. */
export const INVITE_TOKEN_BYTES = 24;
const TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;
export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const MIN_INVITE_TTL_MS = 60 * 1000;
export const MAX_INVITE_TTL_MS = 90 * 24 * 60 * 60 * 1000;
export const MAX_INVITE_USES = 10_000;
/**
 * An invite still works this long after its expiry. Someone who clicks a link shown as valid
 * until 12:00 at 11:59:59 reaches the server a moment later, possibly another machine whose clock
 * is a little off; 30 s changes nothing for an attacker, who needs the token anyway.
 */
export const INVITE_EXPIRY_GRACE_MS = 30 * 1000;
export const MAX_INVITES_LISTED = 200;

/** An invite as listed to its room's managers: never the token or its hash. */
export type Invite = Omit<InviteRow, 'tokenHash'>;

export interface Redemption {
  roomId: string;
  /** The role the redeemer now holds: the invite's, or a higher one they already had. */
  role: Role;
  inviteId: string;
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

function toInvite(row: InviteRow): Invite {
  const { tokenHash: _, ...rest } = row;
  return rest;
}

/**
 * Invite links: `/join/<token>` style. The token is shown once, at creation; only its SHA-256 is
 * stored, so a copy of the database lets nobody in. A plain hash is enough because the token is
 * random (no dictionary to try), and it keeps lookup a single index probe.
 */
export class InviteStore {
  constructor(
    private db: Db,
    private members: MembershipStore,
  ) {}

  /**
   * `actorId` makes an invite to `roomId`. FORBIDDEN unless they may manage invites and grant the
   * role (instructors invite drivers and viewers; only owners invite instructors or owners).
   */
  create(
    actorId: string,
    roomId: string,
    opts: { role?: Role; ttlMs?: number; maxUses?: number | null; now?: Date } = {},
  ): { invite: Invite; token: string } {
    const role = opts.role ?? 'viewer';
    if (!isRole(role)) throw new TandemError('BAD_MESSAGE', 'unknown role');
    const ttlMs = opts.ttlMs ?? DEFAULT_INVITE_TTL_MS;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < MIN_INVITE_TTL_MS || ttlMs > MAX_INVITE_TTL_MS)
      throw new TandemError('BAD_MESSAGE', `ttlMs must be between ${MIN_INVITE_TTL_MS} and ${MAX_INVITE_TTL_MS}`);
    const maxUses = opts.maxUses ?? null;
    if (maxUses !== null && (!Number.isSafeInteger(maxUses) || maxUses < 1 || maxUses > MAX_INVITE_USES))
      throw new TandemError('BAD_MESSAGE', `maxUses must be between 1 and ${MAX_INVITE_USES}`);
    const actor = this.members.role(roomId, actorId);
    if (!can(actor, 'manageInvites')) throw new TandemError('FORBIDDEN', 'you may not invite to this room');
    if (!canAssign(actor, null, role)) throw new TandemError('FORBIDDEN', `a ${actor} cannot invite a ${role}`);
    const now = opts.now ?? new Date();
    const token = crypto.randomBytes(INVITE_TOKEN_BYTES).toString('base64url');
    const row: InviteRow = {
      id: crypto.randomBytes(8).toString('hex'),
      roomId,
      tokenHash: hashToken(token),
      role,
      expiresAt: new Date(now.getTime() + ttlMs),
      maxUses,
      uses: 0,
      revokedAt: null,
      createdBy: actorId,
      createdAt: now,
    };
    this.db.insert(invites).values(row).run();
    return { invite: toInvite(row), token };
  }

  /**
   * Uses an invite. With `userId`, also makes them a member in the same transaction (raising,
   * never lowering, their role); a member who already holds the invite's role or higher does not
   * use up a use. Without `userId` (an anonymous guest) every call counts.
   * Throws NOT_FOUND (unknown, forged or malformed token), REVOKED, EXPIRED, USED_UP.
   */
  redeem(token: unknown, opts: { userId?: string; now?: Date } = {}): Redemption {
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) throw new TandemError('NOT_FOUND', 'no such invite');
    const tokenHash = hashToken(token);
    const now = opts.now ?? new Date();
    // IMMEDIATE: takes the write lock up front, so a second process redeeming the same invite
    // waits (busy_timeout) instead of both reading the same count.
    return this.db.transaction(
      () => {
        const inv = this.db.select().from(invites).where(eq(invites.tokenHash, tokenHash)).get();
        if (!inv) throw new TandemError('NOT_FOUND', 'no such invite');
        if (inv.revokedAt) throw new TandemError('REVOKED', 'this invite was revoked');
        if (now.getTime() > inv.expiresAt.getTime() + INVITE_EXPIRY_GRACE_MS) throw new TandemError('EXPIRED', 'this invite has expired');
        const role = inv.role as Role;
        if (opts.userId) {
          const had = this.members.role(inv.roomId, opts.userId);
          if (atLeast(had, role)) return { roomId: inv.roomId, role: had!, inviteId: inv.id };
        }
        // The count check lives in the UPDATE itself, so it holds even without the transaction.
        const res = this.db
          .update(invites)
          .set({ uses: sql`${invites.uses} + 1` })
          .where(and(eq(invites.id, inv.id), or(isNull(invites.maxUses), lt(invites.uses, invites.maxUses))))
          .run();
        if (res.changes !== 1) throw new TandemError('USED_UP', 'this invite has been used up');
        const held = opts.userId ? this.members.grant(inv.roomId, opts.userId, role, now, inv.id) : role;
        return { roomId: inv.roomId, role: held, inviteId: inv.id };
      },
      { behavior: 'immediate' },
    );
  }

  /** What an invite would give, without using it: for the join page. Same errors as redeem. */
  peek(token: unknown, now = new Date()): Invite {
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) throw new TandemError('NOT_FOUND', 'no such invite');
    const inv = this.db.select().from(invites).where(eq(invites.tokenHash, hashToken(token))).get();
    if (!inv) throw new TandemError('NOT_FOUND', 'no such invite');
    if (inv.revokedAt) throw new TandemError('REVOKED', 'this invite was revoked');
    if (now.getTime() > inv.expiresAt.getTime() + INVITE_EXPIRY_GRACE_MS) throw new TandemError('EXPIRED', 'this invite has expired');
    if (inv.maxUses !== null && inv.uses >= inv.maxUses) throw new TandemError('USED_UP', 'this invite has been used up');
    return toInvite(inv);
  }

  /**
   * `actorId` revokes an invite of `roomId`. Same permission as creating one of its role. Revoking
   * twice keeps the first time. Returns the actor's role: who joined by the link goes only if the
   * actor may remove them (RoomAccess.revokeInvite).
   */
  revoke(actorId: string, roomId: string, inviteId: string, now = new Date()): Role {
    const actor = this.members.role(roomId, actorId);
    if (!can(actor, 'manageInvites')) throw new TandemError('FORBIDDEN', 'you may not manage invites of this room');
    const inv = this.db
      .select()
      .from(invites)
      .where(and(eq(invites.id, inviteId), eq(invites.roomId, roomId)))
      .get();
    if (!inv) throw new TandemError('NOT_FOUND', 'no such invite');
    if (!canAssign(actor, null, inv.role as Role)) throw new TandemError('FORBIDDEN', `a ${actor} cannot revoke an invite for a ${inv.role}`);
    this.db
      .update(invites)
      .set({ revokedAt: now })
      .where(and(eq(invites.id, inviteId), isNull(invites.revokedAt)))
      .run();
    return actor!;
  }

  /** A room's invites, newest first (including spent ones, for the managers' page). */
  list(roomId: string, limit = MAX_INVITES_LISTED): Invite[] {
    return this.db
      .select()
      .from(invites)
      .where(eq(invites.roomId, roomId))
      .orderBy(desc(invites.createdAt))
      .limit(Math.min(limit, MAX_INVITES_LISTED))
      .all()
      .map(toInvite);
  }
}
