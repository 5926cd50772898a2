import type { IncomingHttpHeaders } from 'node:http';
import { parseCookies } from '../auth/cookies';
import { guestCookieName, verifyGuestToken } from '../auth/guestToken';
import { decodeSessionCookie, sessionCookieName } from '../auth/sessionJwt';
import { TandemError } from '../../lib/shared/errors';
import type { AccountStore, User } from '../accounts/AccountStore';
import type { SessionStore } from '../accounts/SessionStore';
import type { Access, Identity, RoomAccess } from './RoomAccess';

export interface SignedInUser extends User {
  sid: string;
}

/**
 * Who a request or handshake comes from, read from its cookies exactly as next-auth would: the
 * session JWT (valid only while its `sessions` row lives) and, per room, a guest cookie.
 */
export class Authenticator {
  constructor(
    private o: { secret: string; secureCookies: boolean; sessions: SessionStore; accounts: AccountStore; access: RoomAccess },
  ) {}

  async user(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Promise<SignedInUser | null> {
    const cookies = parseCookies(cookieHeader(headers));
    const claims = await decodeSessionCookie(cookies.get(sessionCookieName(this.o.secureCookies)), this.o.secret, this.o.secureCookies);
    if (!claims || !this.o.sessions.isValid(claims.sid, claims.userId)) return null;
    const user = this.o.accounts.getUser(claims.userId);
    return user ? { ...user, sid: claims.sid } : null;
  }

  /** Everyone this request could be in `roomId`, strongest first: the signed-in user, then a guest cookie. */
  async principals(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, roomId: string): Promise<Identity[]> {
    const out: Identity[] = [];
    const user = await this.user(headers);
    if (user) out.push({ kind: 'user', userId: user.id, name: user.name, sid: user.sid });
    const guestId = verifyGuestToken(this.o.secret, parseCookies(cookieHeader(headers)).get(guestCookieName(roomId)), roomId);
    if (guestId) out.push({ kind: 'guest', guestId, roomId, name: '' });
    if (!out.length) out.push({ kind: 'anonymous' });
    return out;
  }

  /**
   * The first principal the room admits. A signed-in non-member holding a guest cookie gets in as
   * that guest; otherwise the first refusal is the answer (it names the strongest identity).
   */
  resolve(roomId: string, principals: readonly Identity[], anonymousId?: string): Access {
    let first: unknown;
    for (const p of principals) {
      try {
        return this.o.access.resolve(roomId, p, anonymousId);
      } catch (e) {
        if (!(e instanceof TandemError) || e.code === 'ROOM_NOT_FOUND') throw e;
        first ??= e;
      }
    }
    throw first ?? new TandemError('UNAUTHORIZED', 'sign in to join this room');
  }
}

/** Whether principals from `principals()` were signed in with one of `sids`. */
export function signedInWith(principals: unknown, sids: readonly string[]): boolean {
  return Array.isArray(principals) && principals.some((p: Identity) => p.kind === 'user' && p.sid !== undefined && sids.includes(p.sid));
}

function cookieHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const c = headers.cookie;
  return Array.isArray(c) ? c.join('; ') : c;
}
