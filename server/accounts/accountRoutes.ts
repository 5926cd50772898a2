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
import { HttpError } from '../http/errors';
import type { RequestContext, RouteHandler } from '../http/router';
import { parse } from '../http/validate';
import { readJsonObject, sendJson } from '../http/json';
import type { RoomStore } from '../rooms/RoomStore';
import crypto from 'node:crypto';
import { emailSchema, nameSchema, normalizeEmail, type AccountStore } from './AccountStore';
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../auth/password';
import { tokenNameSchema, type ApiTokenStore } from './ApiTokenStore';
import { displayNameSchema, type GuestStore } from './GuestStore';
import type { InviteStore } from './InviteStore';
import type { MembershipStore, RoomOfUser } from './MembershipStore';
import { INVITE_REDEEM_PER_IP, RateLimiter, SIGN_UP_PER_IP } from './RateLimiter';
import { roleSchema, type Role } from './Roles';
import type { ClientAddressOf } from '../http/clientAddress';

export const MAX_ACCOUNT_BODY_BYTES = 8 * 1024;
/** Always-on rooms one user may own (the server has MAX_HEADLESS_HOSTS headless browsers in all). */
export const MAX_ALWAYS_ON_PER_USER = 2;

const engineSchema = z.enum(['auto', 'v86', 'cheerpx']);
const guestSchema = z.enum(ROOM_GUESTS);
export const createRoomSchema = z.object({ name: z.string({ error: 'name is required' }), engine: engineSchema.optional(), guest: guestSchema.optional() });
export const patchRoomSchema = z
  .object({
    name: z.string().optional(),
    archived: z.boolean().optional(),
    alwaysOn: z.boolean().optional(),
    engine: engineSchema.nullable().optional(),
    guest: guestSchema.nullable().optional(),
    recordInput: z.boolean().optional().describe('Recordings keep who typed what (off by default: the owner decides).'),
    internet: z.boolean().nullable().optional().describe("The room's Internet switch; null follows the server's NET."),
  })
  .strict();
export const inviteSchema = z
  .object({
    role: roleSchema.optional(),
    ttlMs: z.number().int().optional(),
    maxUses: z.number().int().nullable().optional(),
  })
  .strict();
export const setRoleSchema = z.object({ role: roleSchema });
export const tokenRequestSchema = z.object({ name: tokenNameSchema });
/** Sign-up's fields; the account store checks them with named codes (BAD_EMAIL, BAD_NAME, PASSWORD_TOO_SHORT…). */
export const signUpSchema = z.object({ email: emailSchema, name: nameSchema, password: z.string().min(MIN_PASSWORD_CHARS).max(MAX_PASSWORD_CHARS) });
/** Redeeming signed out: the guest's display name (BAD_NAME otherwise); signed in it is ignored. */
export const redeemSchema = z.object({ name: displayNameSchema.optional() });

/** Store errors as the join page and the dashboard name them. */
const INVITE_CODES: Partial<Record<ErrorCode, ErrorCode>> = {
  NOT_FOUND: 'INVITE_NOT_FOUND',
  EXPIRED: 'INVITE_EXPIRED',
  REVOKED: 'INVITE_REVOKED',
  USED_UP: 'INVITE_USED_UP',
};

export interface AccountRouteDeps {
  /** The caller's address for the per-address limits (TRUST_PROXY decides whether a proxy's word counts). */
  clientAddress: ClientAddressOf;
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
  /** The room was archived (its queued commands are cancelled). */
  roomArchived?(roomId: string): void;
  /** The room's Internet switch changed: cut or allow its VM's connections now. */
  internetChanged?(roomId: string): void;
  /** The room's Internet as its VM sees it now (switch, NET, who hosts). */
  internetState?(roomId: string): unknown;
}

/**
 * The JSON routes behind the sign-up page, the dashboard, the room's members and invites panels,
 * the join page and API-token settings. Authenticated by the session cookie (or, on the join
 * routes, nobody); every write checks the role in RoomAccess / the stores. Returns one handler per
 * route; the route table (server/http/routes.ts) says which path and method each answers.
 */
export function createAccountHandlers(d: AccountRouteDeps) {
  const signUpLimiter = new RateLimiter(SIGN_UP_PER_IP);
  const inviteLimiter = new RateLimiter(INVITE_REDEEM_PER_IP);

  /** A cookie-authenticated write: JSON only (a cross-site form cannot send that without a CORS preflight we never answer). */
  const write =
    (fn: RouteHandler): RouteHandler =>
    (ctx) => {
      const type = String(ctx.req.headers['content-type'] ?? '');
      if (!/^application\/json\b/i.test(type)) throw new HttpError('UNSUPPORTED_MEDIA', 'send a JSON body with content-type: application/json');
      return fn(ctx);
    };
  /** A route for signed-in users only. */
  const signedIn =
    (fn: (ctx: RequestContext, user: SignedInUser) => Promise<void> | void): RouteHandler =>
    async (ctx) => {
      const user = await d.authn.user(ctx.req.headers);
      if (!user) throw new HttpError('UNAUTHORIZED', 'sign in first');
      return fn(ctx, user);
    };
  const body = (req: IncomingMessage) => readJsonObject(req, MAX_ACCOUNT_BODY_BYTES);

  return {
    me: async ({ req, res }: RequestContext) => {
      const user = await d.authn.user(req.headers);
      sendJson(res, 200, { user: user ? userView(user) : null });
    },
    signUp: write(async ({ req, res }) => {
      limit(signUpLimiter, d.clientAddress(req));
      const b = await body(req);
      try {
        const user = await d.accounts.createUser({ email: b.email, name: b.name, password: b.password });
        d.log.info({ userId: user.id }, 'account created');
        sendJson(res, 201, { user: userView(user) });
      } catch (e) {
        if (!(e instanceof TandemError) || e.code !== 'EMAIL_TAKEN') throw e;
        // The same answer as a new account (the hash was computed either way, so the time matches
        // too): sign-up does not tell who has an account. Signing in with this password then fails.
        d.log.info('sign-up for an email that has an account');
        sendJson(res, 201, { user: { id: crypto.randomUUID(), email: normalizeEmail(b.email), name: String(b.name).trim() } });
      }
    }),
    peekInvite: ({ req, res, params }: RequestContext) => {
      limit(inviteLimiter, d.clientAddress(req));
      const inv = inviteCall(() => d.invites.peek(params.token));
      const room = d.rooms.get(inv.roomId)!;
      sendJson(res, 200, { roomId: room.id, roomName: room.name, role: inv.role, expiresAt: inv.expiresAt });
    },
    redeemInvite: write(({ req, res, params }) => {
      limit(inviteLimiter, d.clientAddress(req));
      return redeem(req, res, params.token);
    }),
    leave: write(({ req, res, params }) => leave(req, res, params.id)),
    myRooms: signedIn(({ res, url }, user) => {
      const { owned, shared } = d.members.roomsOf(user.id, { includeArchived: url.searchParams.get('archived') === '1' });
      sendJson(res, 200, { owned: owned.map(roomOfUserView), shared: shared.map(roomOfUserView) });
    }),
    createRoom: write(
      signedIn(async ({ req, res }, user) => {
        const b = parse(createRoomSchema, await body(req));
        const room = d.rooms.create(b.name, { engine: b.engine, guest: b.guest });
        d.members.addOwner(room.id, user.id);
        sendJson(res, 201, { room: roomView(d.rooms.get(room.id)!, 'owner') });
      }),
    ),
    listTokens: signedIn(({ res }, user) => sendJson(res, 200, { tokens: d.tokens.list(user.id) })),
    createToken: write(
      signedIn(async ({ req, res }, user) => {
        const b = parse(tokenRequestSchema, await body(req));
        const { token, apiToken } = d.tokens.create(user.id, b.name);
        sendJson(res, 201, { token, ...apiToken });
      }),
    ),
    revokeToken: write(
      signedIn(({ res, params }, user) => {
        d.tokens.revoke(user.id, params.tokenId);
        noContent(res);
      }),
    ),
    deleteRoom: write(
      signedIn(({ res, params }, user) => {
        d.access.requireRole(params.id, user.id, 'owner');
        d.rooms.delete(params.id);
        d.access.roomClosed(params.id);
        noContent(res);
      }),
    ),
    updateRoom: write(
      signedIn(async ({ req, res, params }, user) => {
        const roomId = params.id;
        const b = parse(patchRoomSchema, await body(req));
        const { role, room: before } = d.access.requireRole(roomId, user.id, 'owner');
        if (b.alwaysOn && !before.alwaysOn) {
          // Per user first: one account must not take every headless browser the server has.
          const mine = d.members.roomsOf(user.id).owned.filter((r) => r.room.alwaysOn).length;
          if (mine >= MAX_ALWAYS_ON_PER_USER)
            throw new HttpError('QUOTA_EXCEEDED', `you may keep at most ${MAX_ALWAYS_ON_PER_USER} always-on rooms; turn another off first`);
          if (d.rooms.alwaysOn(d.maxAlwaysOn).length >= d.maxAlwaysOn)
            throw new HttpError('CONFLICT', `at most ${d.maxAlwaysOn} rooms can be always on (each keeps a VM running on the server)`);
        }
        const room = d.rooms.update(roomId, b);
        if (b.archived) {
          d.access.roomClosed(roomId);
          d.roomArchived?.(roomId);
        }
        if (b.alwaysOn) d.alwaysOnChanged?.(roomId);
        if (b.internet !== undefined) d.internetChanged?.(roomId);
        sendJson(res, 200, { room: roomView(room, role) });
      }),
    ),
    members: signedIn(({ res, params }, user) => {
      const { role } = d.access.requireRole(params.id, user.id, 'viewer');
      sendJson(res, 200, { me: { memberId: userMemberId(user.id), role }, members: d.access.members(params.id) });
    }),
    removeMember: write(
      signedIn(({ res, params }, user) => {
        d.access.requireRole(params.id, user.id, 'viewer');
        d.access.remove(user.id, params.id, params.memberId);
        noContent(res);
      }),
    ),
    setMemberRole: write(
      signedIn(async ({ req, res, params }, user) => {
        d.access.requireRole(params.id, user.id, 'viewer');
        const b = parse(setRoleSchema, await body(req));
        sendJson(res, 200, { member: d.access.setRole(user.id, params.id, params.memberId, b.role) });
      }),
    ),
    invites: signedIn(({ res, params }, user) => {
      d.access.requireRole(params.id, user.id, 'instructor');
      sendJson(res, 200, { invites: d.invites.list(params.id) });
    }),
    createInvite: write(
      signedIn(async ({ req, res, params }, user) => {
        d.access.requireRole(params.id, user.id, 'instructor');
        const b = parse(inviteSchema, await body(req));
        const { invite, token } = d.invites.create(user.id, params.id, { role: b.role, ttlMs: b.ttlMs, maxUses: b.maxUses ?? null });
        sendJson(res, 201, { invite, token, url: `${d.publicUrl.replace(/\/$/, '')}/join/${token}` });
      }),
    ),
    revokeInvite: write(
      signedIn(({ res, params }, user) => {
        d.access.requireRole(params.id, user.id, 'instructor');
        d.access.revokeInvite(user.id, params.id, params.inviteId);
        noContent(res);
      }),
    ),
  };

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

  function roomView(r: RoomRow, role: Role) {
    return { id: r.id, name: r.name, engine: r.engine, guest: r.guest, role, createdAt: r.createdAt, archivedAt: r.archivedAt, alwaysOn: r.alwaysOn, live: d.hostConnected(r.id), recordInput: r.recordInput, replayOnly: r.replayOnly, internet: r.internet, net: d.internetState?.(r.id) };
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

function noContent(res: ServerResponse): void {
  res.writeHead(204, { 'cache-control': 'no-store' }).end();
}

function limit(limiter: RateLimiter, key: string): void {
  const r = limiter.consume(key);
  if (!r.ok) throw new HttpError('RATE_LIMITED', 'too many attempts; try again later', { 'retry-after': String(Math.ceil(r.retryAfterMs / 1000)) });
}
