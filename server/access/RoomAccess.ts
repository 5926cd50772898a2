import { EventEmitter } from 'node:events';
import type { RoomRow } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import type { AccountStore } from '../accounts/AccountStore';
import type { GuestStore } from '../accounts/GuestStore';
import type { InviteStore } from '../accounts/InviteStore';
import type { MembershipStore } from '../accounts/MembershipStore';
import { atLeast, can, canAssign, isRole, ROLES, type Role } from '../accounts/Roles';
import type { RoomStore } from '../rooms/RoomStore';

/** Who is asking, as the server authenticated them (cookie session, guest cookie, or nobody). */
export type Identity =
  | { kind: 'user'; userId: string; name: string; /** The session it signed in with (sign-out cuts its connections). */ sid?: string }
  | { kind: 'guest'; guestId: string; roomId: string; name: string }
  | { kind: 'anonymous' };

/** What one identity may do in one room, now. Recomputed whenever a role changes. */
export interface Access {
  /** `u:<userId>`, `g:<guestId>`, `a:<clientId>` (anonymous visitors of open rooms). */
  memberId: string;
  name: string;
  /** The membership role; null for anonymous visitors of open rooms. */
  role: Role | null;
  /** Open rooms (no owner: `default` and rooms made signed out) let anyone with the link in. */
  open: boolean;
  canType: boolean;
  canHost: boolean;
  /** Members, invites and the keyboard. */
  canManage: boolean;
  canPushCommands: boolean;
}

export interface MemberView {
  memberId: string;
  kind: 'user' | 'guest';
  name: string;
  role: Role;
}

export interface AccessEvents {
  /** A member's role changed: recompute their Access (they may have lost typing or hosting). */
  changed: [roomId: string, memberId: string];
  /** Members lost access (removed, their invite revoked, the room deleted or archived): disconnect them. */
  removed: [roomId: string, memberIds: string[]];
}

export const userMemberId = (userId: string) => `u:${userId}`;
export const guestMemberId = (guestId: string) => `g:${guestId}`;

/**
 * The one place that decides who may do what in a room. Socket.IO, Yjs and the JSON routes all
 * ask it; every change of authority goes through it too, so it can tell the live connections.
 */
export class RoomAccess {
  readonly events = new EventEmitter<AccessEvents>();

  constructor(
    private d: { rooms: RoomStore; members: MembershipStore; guests: GuestStore; invites: InviteStore; accounts: AccountStore },
  ) {
    this.events.setMaxListeners(0);
  }

  /** Throws ROOM_NOT_FOUND, UNAUTHORIZED (signed out, members-only room) or FORBIDDEN. */
  resolve(roomId: string, who: Identity, anonymousId = 'anon'): Access {
    const room = this.d.rooms.get(roomId);
    if (!room) throw new TandemError('ROOM_NOT_FOUND', `no room ${roomId}`);
    const open = room.ownerId === null;
    if (who.kind === 'user') {
      const role = this.d.members.role(roomId, who.userId);
      if (!role && !open) throw new TandemError('FORBIDDEN', 'you are not a member of this room: ask its owner for an invite link');
      if (room.archivedAt && role !== 'owner') throw new TandemError('FORBIDDEN', 'this room is archived');
      return this.access(userMemberId(who.userId), who.name, role ?? (open ? 'driver' : null), open, role === null);
    }
    if (who.kind === 'guest' && who.roomId === roomId) {
      const g = this.d.guests.get(roomId, who.guestId);
      if (g && !room.archivedAt && isRole(g.role)) return this.access(guestMemberId(g.id), g.name, g.role, open, false);
    }
    if (open && !room.archivedAt) return this.access(`a:${anonymousId}`, 'Guest', 'driver', true, true);
    if (who.kind === 'guest') throw new TandemError('FORBIDDEN', 'your access to this room was revoked');
    throw new TandemError('UNAUTHORIZED', 'sign in, or open an invite link, to join this room');
  }

  /** Like resolve, but null instead of throwing: for re-checks of live connections. */
  tryResolve(roomId: string, who: Identity, anonymousId?: string): Access | null {
    try {
      return this.resolve(roomId, who, anonymousId);
    } catch {
      return null;
    }
  }

  private access(memberId: string, name: string, role: Role | null, open: boolean, visitor: boolean): Access {
    return {
      memberId,
      name,
      role: visitor ? null : role,
      open,
      canType: atLeast(role, 'driver'),
      canHost: open || can(role, 'host'),
      canManage: !open && can(role, 'manageMembers'),
      canPushCommands: open || can(role, 'pushCommands'),
    };
  }

  /** The role of a signed-in user, for routes that need a member (FORBIDDEN otherwise). */
  requireRole(roomId: string, userId: string, min: Role): { room: RoomRow; role: Role } {
    const room = this.d.rooms.get(roomId);
    if (!room) throw new TandemError('ROOM_NOT_FOUND', `no room ${roomId}`);
    const role = this.d.members.role(roomId, userId);
    if (!role) throw new TandemError(room.ownerId === null ? 'FORBIDDEN' : 'NOT_FOUND', room.ownerId === null ? 'this room is open to everyone and has no members to manage' : `no room ${roomId}`);
    if (!atLeast(role, min)) throw new TandemError('FORBIDDEN', `this needs the ${min} role; you are a ${role}`);
    return { room, role };
  }

  members(roomId: string): MemberView[] {
    const users = this.d.members.members(roomId).map((m) => ({ memberId: userMemberId(m.userId), kind: 'user' as const, name: m.name, role: m.role }));
    const guests = this.d.guests.list(roomId).map((g) => ({ memberId: guestMemberId(g.id), kind: 'guest' as const, name: g.name, role: g.role as Role }));
    return [...users, ...guests];
  }

  setRole(actorUserId: string, roomId: string, memberId: string, role: unknown): MemberView {
    if (!isRole(role)) throw new TandemError('BAD_MESSAGE', 'role must be one of owner, instructor, driver, viewer');
    const target = this.parseMember(memberId);
    if (target.kind === 'user') {
      this.d.members.setRole(actorUserId, roomId, target.id, role);
    } else {
      const { role: actor } = this.requireRole(roomId, actorUserId, 'viewer');
      const g = this.d.guests.get(roomId, target.id);
      if (!g) throw new TandemError('NOT_FOUND', 'no such member');
      if (!canAssign(actor, g.role as Role, role)) throw new TandemError('FORBIDDEN', `a ${actor} cannot change a ${g.role} to ${role}`);
      if (atLeast(role, 'instructor')) throw new TandemError('FORBIDDEN', 'guests without an account can be at most drivers; ask them to sign up');
      this.d.guests.setRole(roomId, target.id, role);
    }
    this.events.emit('changed', roomId, memberId);
    const view = this.members(roomId).find((m) => m.memberId === memberId);
    if (!view) throw new TandemError('NOT_FOUND', 'no such member');
    return view;
  }

  remove(actorUserId: string, roomId: string, memberId: string): void {
    const target = this.parseMember(memberId);
    if (target.kind === 'user') {
      this.d.members.remove(actorUserId, roomId, target.id);
    } else {
      const { role: actor } = this.requireRole(roomId, actorUserId, 'viewer');
      const g = this.d.guests.get(roomId, target.id);
      if (!g) throw new TandemError('NOT_FOUND', 'no such member');
      if (!canAssign(actor, g.role as Role, null)) throw new TandemError('FORBIDDEN', `a ${actor} cannot remove a ${g.role}`);
      this.d.guests.revoke(roomId, target.id);
    }
    this.events.emit('removed', roomId, [memberId]);
  }

  /**
   * Revokes an invite and takes access, live, from everyone who joined through it and whom the
   * revoker may remove: an instructor revoking a link never removes a fellow instructor who came by it.
   */
  revokeInvite(actorUserId: string, roomId: string, inviteId: string): void {
    const actor = this.d.invites.revoke(actorUserId, roomId, inviteId);
    const removable = ROLES.filter((r) => canAssign(actor, r, null));
    const gone = [
      ...this.d.guests.revokeByInvite(inviteId, removable).map(guestMemberId),
      ...this.d.members.removeByInvite(inviteId, removable).map(userMemberId),
    ];
    if (gone.length) this.events.emit('removed', roomId, gone);
  }

  /** Everyone loses their connection (room deleted or archived); owners of an archived room may come back. */
  roomClosed(roomId: string): void {
    this.events.emit('removed', roomId, ['*']);
  }

  /** A member's access by id (users and guests; anonymous visitors keep what they had). */
  memberAccess(roomId: string, memberId: string): Access | null {
    if (memberId.startsWith('a:') || memberId.startsWith('h:')) {
      const room = this.d.rooms.get(roomId);
      return room && room.ownerId === null ? this.access(memberId, 'Guest', 'driver', true, true) : null;
    }
    let target: { kind: 'user' | 'guest'; id: string };
    try {
      target = this.parseMember(memberId);
    } catch {
      return null;
    }
    if (target.kind === 'user') {
      const user = this.d.accounts.getUser(target.id);
      return user ? this.tryResolve(roomId, { kind: 'user', userId: user.id, name: user.name }) : null;
    }
    return this.tryResolve(roomId, { kind: 'guest', guestId: target.id, roomId, name: '' });
  }

  memberCanType(roomId: string, memberId: string): boolean {
    return this.memberAccess(roomId, memberId)?.canType ?? false;
  }

  private parseMember(memberId: string): { kind: 'user' | 'guest'; id: string } {
    const m = /^([ug]):([A-Za-z0-9-]{1,64})$/.exec(typeof memberId === 'string' ? memberId : '');
    if (!m) throw new TandemError('NOT_FOUND', 'no such member');
    return { kind: m[1] === 'u' ? 'user' : 'guest', id: m[2] };
  }
}
