/**
 * The browser side of the accounts HTTP API (sign-up, rooms, members, invites, API tokens):
 * typed calls to the routes in the accounts contract, and errors in words a person can act on.
 * Every non-GET call sends `content-type: application/json` (the server refuses cookie-authenticated
 * writes without it, as a CSRF guard).
 */

import { ApiError, readApiResponse } from './apiResponse';
import type { MemberInfo, RoomGuest } from '../../shared/protocol';

/** A person's role in a room, lowest first: the one table in lib/shared/roles.ts. */
export { ROLES as MEMBER_ROLES, ROLE_RANK, atLeast, type Role as MemberRole } from '../../shared/roles';
import type { Role as MemberRole } from '../../shared/roles';

export const ROLE_LABEL: Readonly<Record<MemberRole, string>> = {
  viewer: 'viewer — read only',
  driver: 'driver — may type',
  instructor: 'instructor',
  owner: 'owner',
};

export const ENGINES = ['auto', 'v86', 'cheerpx'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface Me {
  id: string;
  email: string;
  name: string;
}

export interface MyRoom {
  id: string;
  name: string;
  engine: EngineName | null;
  /** The guest v86 boots; null: the server's disk when it has one. */
  guest?: RoomGuest | null;
  role: MemberRole;
  createdAt: string;
  archivedAt: string | null;
  /** The server keeps a VM running for it (headless host). */
  alwaysOn?: boolean;
  /** Recordings keep who typed what (owner's choice, off by default). */
  recordInput?: boolean;
  /** An imported recording: a replay, no VM. */
  replayOnly?: boolean;
  /** Someone hosts it right now. */
  live?: boolean;
}

/** What `room:state.me` carries; absent from servers before accounts. */
export type RoomMe = MemberInfo;

export interface Member {
  memberId: string;
  kind: 'user' | 'guest';
  name: string;
  role: MemberRole;
}

export interface Invite {
  id: string;
  role: MemberRole;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  createdAt: string;
}

export interface InvitePreview {
  roomId: string;
  roomName: string;
  role: MemberRole;
  expiresAt: string | null;
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export { ApiError };

/** Messages for the codes a person can act on; others show the server's own message. */
const CODE_TEXT: Record<string, string> = {
  BAD_EMAIL: 'That is not an email address.',
  BAD_NAME: 'Enter a name of 1 to 64 characters, on one line.',
  PASSWORD_TOO_SHORT: 'The password is too short: use at least 10 characters.',
  PASSWORD_TOO_LONG: 'The password is too long: use at most 200 characters.',
  PASSWORD_TOO_SIMPLE: 'The password is too easy to guess: mix letters, digits and symbols, and avoid common passwords.',
  EMAIL_TAKEN: 'An account with that email already exists. Sign in instead.',
  RATE_LIMITED: 'Too many attempts. Wait a minute and try again.',
  INVITE_NOT_FOUND: 'This invite link does not exist. Check that you copied all of it.',
  INVITE_EXPIRED: 'This invite link has expired. Ask the room’s owner for a new one.',
  INVITE_REVOKED: 'This invite link was revoked. Ask the room’s owner for a new one.',
  INVITE_USED_UP: 'This invite link has been used as many times as allowed. Ask the room’s owner for a new one.',
  LAST_OWNER: 'A room needs at least one owner: make someone else owner first.',
  STORAGE_FULL: 'The server’s disk is full, so nothing was saved. Try again later.',
}; // QUOTA_EXCEEDED shows the server's own message: it names the limit that was reached.

/** What to tell a person about a failed call. */
export function explain(e: unknown): string {
  if (e instanceof ApiError) {
    const known = CODE_TEXT[e.code];
    if (known) return known;
    if (e.status === 401) return 'You are signed out. Sign in and try again.';
    if (e.status === 403) return `Not allowed: ${e.message}`;
    return e.message || `The server answered ${e.status}.`;
  }
  return 'Cannot reach the server. Check your connection and try again.';
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: method === 'GET' ? undefined : JSON.stringify(init.body ?? {}),
    credentials: 'same-origin',
    cache: 'no-store',
    signal: init.signal,
  });
  if (res.status === 204) return undefined as T;
  return readApiResponse<T>(res);
}

const enc = encodeURIComponent;

export const accounts = {
  me: () => api<{ user: Me | null }>('/api/me'),
  signup: (body: { email: string; name: string; password: string }) => api<{ user: Me }>('/api/account/signup', { method: 'POST', body }),

  myRooms: (archived = false) => api<{ owned: MyRoom[]; shared: MyRoom[] }>(`/api/me/rooms${archived ? '?archived=1' : ''}`),
  createRoom: (body: { name: string; engine?: EngineName; guest?: RoomGuest }) => api<{ room: MyRoom }>('/api/me/rooms', { method: 'POST', body }),
  updateRoom: (id: string, body: { name?: string; archived?: boolean; alwaysOn?: boolean; engine?: EngineName | null; guest?: RoomGuest | null; recordInput?: boolean }) => api<{ room: MyRoom }>(`/api/rooms/${enc(id)}`, { method: 'PATCH', body }),
  deleteRoom: (id: string) => api<void>(`/api/rooms/${enc(id)}`, { method: 'DELETE' }),

  members: (room: string) => api<{ me: { memberId: string; role: MemberRole }; members: Member[] }>(`/api/rooms/${enc(room)}/members`),
  setRole: (room: string, memberId: string, role: MemberRole) =>
    api<{ member: Member }>(`/api/rooms/${enc(room)}/members/${enc(memberId)}`, { method: 'PATCH', body: { role } }),
  /** Leaves the room: a guest's seat and cookie end, a member's membership ends. */
  leaveRoom: (room: string) => api<void>(`/api/rooms/${enc(room)}/leave`, { method: 'POST', body: {} }),
  removeMember: (room: string, memberId: string) => api<void>(`/api/rooms/${enc(room)}/members/${enc(memberId)}`, { method: 'DELETE' }),

  invites: (room: string) => api<{ invites: Invite[] }>(`/api/rooms/${enc(room)}/invites`),
  createInvite: (room: string, body: { role?: MemberRole; ttlMs?: number; maxUses?: number }) =>
    api<{ invite: Invite; token: string; url: string }>(`/api/rooms/${enc(room)}/invites`, { method: 'POST', body }),
  revokeInvite: (room: string, inviteId: string) => api<void>(`/api/rooms/${enc(room)}/invites/${enc(inviteId)}`, { method: 'DELETE' }),

  previewInvite: (token: string) => api<InvitePreview>(`/api/invites/${enc(token)}`),
  redeemInvite: (token: string, name?: string) =>
    api<{ roomId: string; role: MemberRole }>(`/api/invites/${enc(token)}/redeem`, { method: 'POST', body: name === undefined ? {} : { name } }),

  tokens: () => api<{ tokens: ApiToken[] }>('/api/me/tokens'),
  createToken: (name: string) => api<{ token: string; id: string; name: string }>('/api/me/tokens', { method: 'POST', body: { name } }),
  revokeToken: (id: string) => api<void>(`/api/me/tokens/${enc(id)}`, { method: 'DELETE' }),
};

/** A `?next=` target that stays on this site (a path, never `//host` or a scheme). */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

/** "in 3 h", "2 days ago": for expiry and last-used columns. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  if (abs < 10_000) return 'just now';
  const [n, unit] =
    abs < 60_000 ? [Math.round(abs / 1000), 's'] : abs < 3_600_000 ? [Math.round(abs / 60_000), 'min'] : abs < 86_400_000 ? [Math.round(abs / 3_600_000), 'h'] : [Math.round(abs / 86_400_000), abs < 2 * 86_400_000 ? 'day' : 'days'];
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/** A stable colour per member, so someone keeps theirs across reloads and on every screen. */
const COLORS = ['#6aa8ff', '#4ecb71', '#f5b94a', '#ff6b6b', '#c38bff', '#4fd1c5', '#f687b3'];
export function colorFor(memberId: string): string {
  let h = 0;
  for (let i = 0; i < memberId.length; i++) h = (h * 31 + memberId.charCodeAt(i)) | 0;
  return COLORS[Math.abs(h) % COLORS.length];
}
