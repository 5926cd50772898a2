import crypto from 'node:crypto';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { guests, type GuestRow } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import { MAX_NAME_CHARS } from './AccountStore';
import { ROLE_RANK, type Role } from './Roles';

/** Guests have no account to hold authority with: at most drivers (type), never managers. */
export const MAX_GUEST_ROLE: Role = 'driver';
export const MAX_GUESTS_LISTED = 1000;

export const displayNameSchema = z
  .string({ error: 'a display name is required' })
  .trim()
  .min(1, 'a display name is required')
  .max(MAX_NAME_CHARS, `display names are at most ${MAX_NAME_CHARS} characters`)
  // Control characters would let a name forge terminal escapes or fake lines in listings.
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'display names cannot contain control characters');

export function capGuestRole(role: Role): Role {
  return ROLE_RANK[role] > ROLE_RANK[MAX_GUEST_ROLE] ? MAX_GUEST_ROLE : role;
}

/** People in one room by an invite link, without an account (see server/auth/guestToken.ts). */
export class GuestStore {
  constructor(private db: Db) {}

  create(roomId: string, inviteId: string | null, name: string, role: Role, now = new Date()): GuestRow {
    const parsed = displayNameSchema.safeParse(name);
    if (!parsed.success) throw new TandemError('BAD_MESSAGE', parsed.error.issues[0]?.message ?? 'bad display name');
    const row: GuestRow = { id: crypto.randomBytes(12).toString('base64url').replace(/[-_]/g, 'x'), roomId, inviteId, name: parsed.data, role: capGuestRole(role), createdAt: now, revokedAt: null };
    this.db.insert(guests).values(row).run();
    return row;
  }

  /** An active guest of this room. */
  get(roomId: string, guestId: string): GuestRow | undefined {
    return this.db
      .select()
      .from(guests)
      .where(and(eq(guests.id, guestId), eq(guests.roomId, roomId), isNull(guests.revokedAt)))
      .get();
  }

  /** Changes a guest's role; like a member's, it is then no longer tied to the link it came by. */
  setRole(roomId: string, guestId: string, role: Role): void {
    const res = this.db
      .update(guests)
      .set({ role: capGuestRole(role), inviteId: null })
      .where(and(eq(guests.id, guestId), eq(guests.roomId, roomId), isNull(guests.revokedAt)))
      .run();
    if (res.changes !== 1) throw new TandemError('NOT_FOUND', 'no such member');
  }

  revoke(roomId: string, guestId: string, now = new Date()): boolean {
    return (
      this.db
        .update(guests)
        .set({ revokedAt: now })
        .where(and(eq(guests.id, guestId), eq(guests.roomId, roomId), isNull(guests.revokedAt)))
        .run().changes === 1
    );
  }

  /** Revokes everyone who joined through an invite and holds one of `roles` (those the revoker may remove); returns their ids. */
  revokeByInvite(inviteId: string, roles: readonly Role[], now = new Date()): string[] {
    if (!roles.length) return [];
    return this.db
      .update(guests)
      .set({ revokedAt: now })
      .where(and(eq(guests.inviteId, inviteId), isNull(guests.revokedAt), inArray(guests.role, [...roles])))
      .returning({ id: guests.id })
      .all()
      .map((r) => r.id);
  }

  list(roomId: string, limit = MAX_GUESTS_LISTED): GuestRow[] {
    return this.db
      .select()
      .from(guests)
      .where(and(eq(guests.roomId, roomId), isNull(guests.revokedAt)))
      .orderBy(asc(guests.createdAt))
      .limit(Math.min(limit, MAX_GUESTS_LISTED))
      .all();
  }
}
