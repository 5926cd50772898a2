import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RoomRow } from '../../drizzle/schema';
import { parseCookies, serializeCookie } from '../auth/cookies';
import { GUEST_TOKEN_TTL_MS, guestCookieName, signGuestToken, verifyGuestToken } from '../auth/guestToken';
import { TandemError, type ErrorCode } from '../../lib/shared/errors';
import { ROOM_GUESTS } from '../../lib/shared/protocol';
import type { Authenticator, SignedInUser } from '../access/Authenticator';
import { guestMemberId, userMemberId, type RoomAccess } from '../access/RoomAccess';
import { HttpError, sendHttpError } from '../commands/HttpError';
import { readJsonObject, sendJson } from '../http/json';
import type { RoomStore } from '../rooms/RoomStore';
import crypto from 'node:crypto';
import { normalizeEmail, type AccountStore } from './AccountStore';
import type { ApiTokenStore } from './ApiTokenStore';
import { displayNameSchema, type GuestStore } from './GuestStore';
import type { InviteStore } from './InviteStore';
import type { MembershipStore, RoomOfUser } from './MembershipStore';
import { INVITE_REDEEM_PER_IP, RateLimiter, SIGN_UP_PER_IP } from './RateLimiter';
import { roleSchema, type Role } from './Roles';

export const MAX_ACCOUNT_BODY_BYTES = 8 * 1024;
/** Always-on rooms one user may own (the server has MAX_HEADLESS_HOSTS headless browsers in all). */
export const MAX_ALWAYS_ON_PER_USER = 2;

const engineSchema = z.enum(['auto', 'v86', 'cheerpx']);
const guestSchema = z.enum(ROOM_GUESTS);
const createRoomSchema = z.object({ name: z.string({ error: 'name is required' }), engine: engineSchema.optional(), guest: guestSchema.optional() });
const patchRoomSchema = z
  .object({ name: z.string().optional(), archived: z.boolean().optional(), alwaysOn: z.boolean().optional(), engine: engineSchema.nullable().optional(), guest: guestSchema.nullable().optional(), internet: z.boolean().nullable().optional() })
  .strict();
const inviteSchema = z
  .object({
    role: roleSchema.optional(),
    ttlMs: z.number().int().optional(),
    maxUses: z.number().int().nullable().optional(),
  })
  .strict();

/** Store errors as the join page and the dashboard name them. */
const INVITE_CODES: Partial<Record<ErrorCode, ErrorCode>> = {
  NOT_FOUND: 'INVITE_NOT_FOUND',
  EXPIRED: 'INVITE_EXPIRED',
  REVOKED: 'INVITE_REVOKED',
  USED_UP: 'INVITE_USED_UP',
};

export interface AccountRouteDeps {
  authn: Authenticator;
  access: RoomAccess;
  accounts: AccountStore;
  rooms: RoomStore;
  members: MembershipStore;
  invites: InviteStore;
  guests: GuestStore;
  tokens: ApiTokenStore;
  publicUrl: string;
  secret: string;
  secureCookies: boolean;
  log: Logger;
  /** Hosts still connected to a room, for the dashboard's "live" badge. */
  hostConnected(roomId: string): boolean;
  /** Always-on rooms each hold a headless browser: at most this many. */
  maxAlwaysOn: number;
  /** A room became always on: start its VM now rather than at the next periodic check. */
  alwaysOnChanged?(roomId: string): void;
  /** The room's Internet switch changed: cut or allow its VM's connections now. */
  internetChanged?(roomId: string): void;
  /** The room's Internet as its VM sees it now (switch, NET, who hosts). */
  internetState?(roomId: string): unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/**
 * The JSON routes behind the sign-up page, the dashboard, the room's members and invites panels,
 * the join page and API-token settings. Authenticated by the session cookie (or, on the join
 * routes, nobody); every write checks the role in RoomAccess / the stores.
 */
export function createAccountHandler(d: AccountRouteDeps): Handler {
  const signUpLimiter = new RateLimiter(SIGN_UP_PER_IP);
  const inviteLimiter = new RateLimiter(INVITE_REDEEM_PER_IP);
  const publicOrigin = new URL(d.publicUrl).origin;

  return (req, res, url) => {
    const p = url.pathname;
    const ours =
      p === '/api/me' ||
      p.startsWith('/api/me/') ||
      p.startsWith('/api/account/') ||
      p.startsWith('/api/invites/') ||
      /^\/api\/rooms\/[^/]+\/(members|invites|leave)(\/|$)/.test(p) ||
      (/^\/api\/rooms\/[^/]+\/?$/.test(p) && (req.method === 'PATCH' || req.method === 'DELETE'));
    if (!ours) return false;
    void route(req, res, url).catch((e) => {
      if (!(e instanceof TandemError)) d.log.error({ err: e, path: p }, 'account route failed');
      sendHttpError(res, e);
    });
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const p = url.pathname.replace(/\/$/, '');
    if (method !== 'GET' && method !== 'HEAD') checkCsrf(req);
    let m: RegExpExecArray | null;

    if (p === '/api/me') {
      allow(method, 'GET');
      const user = await d.authn.user(req.headers);
      return sendJson(res, 200, { user: user ? userView(user) : null });
    }
    if (p === '/api/account/signup') {
      allow(method, 'POST');
      limit(signUpLimiter, clientIp(req));
      const body = await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES);
      try {
        const user = await d.accounts.createUser({ email: body.email, name: body.name, password: body.password });
        d.log.info({ userId: user.id }, 'account created');
        return sendJson(res, 201, { user: userView(user) });
      } catch (e) {
        if (!(e instanceof TandemError) || e.code !== 'EMAIL_TAKEN') throw e;
        // The same answer as a new account (the hash was computed either way, so the time matches
        // too): sign-up does not tell who has an account. Signing in with this password then fails.
        d.log.info('sign-up for an email that has an account');
        return sendJson(res, 201, { user: { id: crypto.randomUUID(), email: normalizeEmail(body.email), name: String(body.name).trim() } });
      }
    }
    if ((m = /^\/api\/invites\/([^/]+)(\/redeem)?$/.exec(p))) {
      limit(inviteLimiter, clientIp(req));
      const token = decodeURIComponent(m[1]);
      if (!m[2]) {
        allow(method, 'GET');
        const inv = inviteCall(() => d.invites.peek(token));
        const room = d.rooms.get(inv.roomId)!;
        return sendJson(res, 200, { roomId: room.id, roomName: room.name, role: inv.role, expiresAt: inv.expiresAt });
      }
      allow(method, 'POST');
      return redeem(req, res, token);
    }

    if ((m = /^\/api\/rooms\/([^/]+)\/leave$/.exec(p))) {
      allow(method, 'POST');
      return leave(req, res, decodeURIComponent(m[1]));
    }

    // Everything below needs a signed-in user.
    const user = await d.authn.user(req.headers);
    if (!user) throw new HttpError('UNAUTHORIZED', 'sign in first');

    if (p === '/api/me/rooms') {
      if (method === 'GET') {
        const { owned, shared } = d.members.roomsOf(user.id, { includeArchived: url.searchParams.get('archived') === '1' });
        return sendJson(res, 200, { owned: owned.map(roomOfUserView), shared: shared.map(roomOfUserView) });
      }
      allow(method, 'POST');
      const body = parse(createRoomSchema, await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES));
      const room = d.rooms.create(body.name, { engine: body.engine, guest: body.guest });
      d.members.addOwner(room.id, user.id);
      return sendJson(res, 201, { room: roomView(d.rooms.get(room.id)!, 'owner') });
    }
    if (p === '/api/me/tokens') {
      if (method === 'GET') return sendJson(res, 200, { tokens: d.tokens.list(user.id) });
      allow(method, 'POST');
      const body = await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES);
      const { token, apiToken } = d.tokens.create(user.id, body.name);
      return sendJson(res, 201, { token, ...apiToken });
    }
    if ((m = /^\/api\/me\/tokens\/([^/]+)$/.exec(p))) {
      allow(method, 'DELETE');
      d.tokens.revoke(user.id, decodeURIComponent(m[1]));
      return noContent(res);
    }
    if ((m = /^\/api\/rooms\/([^/]+)$/.exec(p))) {
      const roomId = decodeURIComponent(m[1]);
      if (method === 'DELETE') {
        d.access.requireRole(roomId, user.id, 'owner');
        d.rooms.delete(roomId);
        d.access.roomClosed(roomId);
        return noContent(res);
      }
      allow(method, 'PATCH');
      const body = parse(patchRoomSchema, await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES));
      const { role, room: before } = d.access.requireRole(roomId, user.id, 'owner');
      if (body.alwaysOn && !before.alwaysOn) {
        // Per user first: one account must not take every headless browser the server has.
        const mine = d.members.roomsOf(user.id).owned.filter((r) => r.room.alwaysOn).length;
        if (mine >= MAX_ALWAYS_ON_PER_USER)
          throw new HttpError('QUOTA_EXCEEDED', `you may keep at most ${MAX_ALWAYS_ON_PER_USER} always-on rooms; turn another off first`);
        if (d.rooms.alwaysOn(d.maxAlwaysOn).length >= d.maxAlwaysOn)
          throw new HttpError('CONFLICT', `at most ${d.maxAlwaysOn} rooms can be always on (each keeps a VM running on the server)`);
      }
      const room = d.rooms.update(roomId, body);
      if (body.archived) d.access.roomClosed(roomId);
      if (body.alwaysOn) d.alwaysOnChanged?.(roomId);
      if (body.internet !== undefined) d.internetChanged?.(roomId);
      return sendJson(res, 200, { room: roomView(room, role) });
    }
    if ((m = /^\/api\/rooms\/([^/]+)\/members(?:\/([^/]+))?$/.exec(p))) {
      const roomId = decodeURIComponent(m[1]);
      const { role } = d.access.requireRole(roomId, user.id, 'viewer');
      if (!m[2]) {
        allow(method, 'GET');
        return sendJson(res, 200, { me: { memberId: userMemberId(user.id), role }, members: d.access.members(roomId) });
      }
      const memberId = decodeURIComponent(m[2]);
      if (method === 'DELETE') {
        d.access.remove(user.id, roomId, memberId);
        return noContent(res);
      }
      allow(method, 'PATCH');
      const body = await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES);
      return sendJson(res, 200, { member: d.access.setRole(user.id, roomId, memberId, body.role) });
    }
    if ((m = /^\/api\/rooms\/([^/]+)\/invites(?:\/([^/]+))?$/.exec(p))) {
      const roomId = decodeURIComponent(m[1]);
      d.access.requireRole(roomId, user.id, 'instructor');
      if (!m[2]) {
        if (method === 'GET') return sendJson(res, 200, { invites: d.invites.list(roomId) });
        allow(method, 'POST');
        const body = parse(inviteSchema, await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES));
        const { invite, token } = d.invites.create(user.id, roomId, { role: body.role, ttlMs: body.ttlMs, maxUses: body.maxUses ?? null });
        return sendJson(res, 201, { invite, token, url: `${d.publicUrl.replace(/\/$/, '')}/join/${token}` });
      }
      allow(method, 'DELETE');
      d.access.revokeInvite(user.id, roomId, decodeURIComponent(m[2]));
      return noContent(res);
    }
    throw new HttpError('NOT_FOUND', `no route ${p}`);
  }

  /**
   * Leaving a room: a guest's seat is revoked and its cookie cleared (on a shared computer the
   * next person is not let in as them); a signed-in member's membership ends (not the last
   * owner's). Their connections to the room are cut, live.
   */
  async function leave(req: IncomingMessage, res: ServerResponse, roomId: string): Promise<void> {
    if (!d.rooms.get(roomId)) throw new HttpError('NOT_FOUND', `no room ${roomId}`);
    const gone: string[] = [];
    const headers: Record<string, string> = {};
    // The membership first: the last owner is refused before anything else changes.
    const user = await d.authn.user(req.headers);
    if (user && d.members.role(roomId, user.id)) {
      d.members.remove(user.id, roomId, user.id);
      gone.push(userMemberId(user.id));
    }
    const guestId = verifyGuestToken(d.secret, parseCookies(req.headers.cookie).get(guestCookieName(roomId)), roomId);
    if (guestId) {
      if (d.guests.revoke(roomId, guestId)) gone.push(guestMemberId(guestId));
      headers['set-cookie'] = serializeCookie(guestCookieName(roomId), '', { maxAgeS: 0, secure: d.secureCookies });
    }
    if (!gone.length && !guestId) throw new HttpError('NOT_FOUND', 'you are not a member of this room');
    if (gone.length) d.access.events.emit('removed', roomId, gone);
    d.log.info({ room: roomId, gone }, 'left the room');
    res.writeHead(204, headers).end();
  }

  async function redeem(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const body = await readJsonObject(req, MAX_ACCOUNT_BODY_BYTES);
    const user = await d.authn.user(req.headers);
    if (user) {
      const r = inviteCall(() => d.invites.redeem(token, { userId: user.id }));
      d.access.events.emit('changed', r.roomId, userMemberId(user.id));
      return sendJson(res, 200, { roomId: r.roomId, role: r.role });
    }
    const inv = inviteCall(() => d.invites.peek(token));
    // Someone already in as a guest of this room keeps their seat instead of using the link up.
    const existing = verifyGuestToken(d.secret, parseCookies(req.headers.cookie).get(guestCookieName(inv.roomId)), inv.roomId);
    const had = existing ? d.guests.get(inv.roomId, existing) : undefined;
    if (had) return sendJson(res, 200, { roomId: inv.roomId, role: had.role });
    // Check the name before the invite is used, so a bad name costs no use.
    const name = displayNameSchema.safeParse(body.name);
    if (!name.success) throw new HttpError('BAD_NAME', name.error.issues[0]?.message ?? 'a display name is required');
    const r = inviteCall(() => d.invites.redeem(token));
    const guest = d.guests.create(r.roomId, r.inviteId, name.data, r.role);
    const cookie = serializeCookie(guestCookieName(r.roomId), signGuestToken(d.secret, r.roomId, guest.id), {
      maxAgeS: GUEST_TOKEN_TTL_MS / 1000,
      secure: d.secureCookies,
    });
    d.log.info({ room: r.roomId, guest: guestMemberId(guest.id) }, 'guest joined by invite');
    return sendJson(res, 200, { roomId: r.roomId, role: guest.role as Role }, { 'set-cookie': cookie });
  }

  /**
   * Cookie-authenticated writes must be JSON (a cross-site form cannot send that without a CORS
   * preflight we never answer) and, when the browser says where it came from, from our origin.
   */
  function checkCsrf(req: IncomingMessage): void {
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(type)) throw new HttpError('UNSUPPORTED_MEDIA', 'send a JSON body with content-type: application/json');
    const origin = req.headers.origin;
    if (origin && origin !== publicOrigin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
      throw new HttpError('FORBIDDEN', `requests from ${origin} are not allowed`);
  }

  function roomView(r: RoomRow, role: Role) {
    return { id: r.id, name: r.name, engine: r.engine, guest: r.guest, role, createdAt: r.createdAt, archivedAt: r.archivedAt, alwaysOn: r.alwaysOn, live: d.hostConnected(r.id), internet: r.internet, net: d.internetState?.(r.id) };
  }
  function roomOfUserView(r: RoomOfUser) {
    return roomView(r.room, r.role);
  }
}

function userView(u: SignedInUser | { id: string; email: string; name: string }) {
  return { id: u.id, email: u.email, name: u.name };
}

function inviteCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TandemError && INVITE_CODES[e.code]) throw new HttpError(INVITE_CODES[e.code]!, e.message);
    throw e;
  }
}

function allow(method: string, allowed: string): void {
  if (method !== allowed) throw new HttpError('METHOD_NOT_ALLOWED', `use ${allowed}`, { allow: allowed });
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError('BAD_MESSAGE', `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

function noContent(res: ServerResponse): void {
  res.writeHead(204, { 'cache-control': 'no-store' }).end();
}

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

function limit(limiter: RateLimiter, key: string): void {
  const r = limiter.consume(key);
  if (!r.ok) throw new HttpError('RATE_LIMITED', 'too many attempts; try again later', { 'retry-after': String(Math.ceil(r.retryAfterMs / 1000)) });
}
