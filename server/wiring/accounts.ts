import type { Env } from '../env';
import type { Db } from '../db';
import { log as rootLog } from '../log';
import { AccountStore } from '../accounts/AccountStore';
import { ApiTokenStore } from '../accounts/ApiTokenStore';
import { GuestStore } from '../accounts/GuestStore';
import { InviteStore } from '../accounts/InviteStore';
import { MembershipStore } from '../accounts/MembershipStore';
import { RateLimiter, SIGN_IN_PER_EMAIL, SIGN_IN_PER_IP } from '../accounts/RateLimiter';
import { SessionStore } from '../accounts/SessionStore';
import { RoomStore } from '../rooms/RoomStore';
import { Authenticator } from '../access/Authenticator';
import { RoomAccess } from '../access/RoomAccess';
import { registerAuthServices } from '../auth/services';

/**
 * Who is who: the rooms, users, sessions, memberships, invites, guests and API tokens in SQLite;
 * `access` (identities to what they may do in a room) and `authn` (requests to identities); and
 * next-auth's services (sign-in with its rate limits, GitHub when configured).
 */
export function openAccounts(d: { env: Env; db: Db; secret: string }) {
  const { env, db, secret } = d;
  const rooms = new RoomStore(db);
  const accounts = new AccountStore(db);
  const sessions = new SessionStore(db);
  const members = new MembershipStore(db);
  const invites = new InviteStore(db, members);
  const guests = new GuestStore(db);
  const tokens = new ApiTokenStore(db);
  const access = new RoomAccess({ rooms, members, guests, invites, accounts });
  const secureCookies = env.PUBLIC_URL.startsWith('https:');
  const authn = new Authenticator({ secret, secureCookies, sessions, accounts, access });
  registerAuthServices({
    secret,
    secureCookies,
    accounts,
    sessions,
    signInPerIp: new RateLimiter(SIGN_IN_PER_IP),
    signInPerEmail: new RateLimiter(SIGN_IN_PER_EMAIL),
    log: rootLog.child({ cap: 'auth' }),
    github: env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET ? { clientId: env.AUTH_GITHUB_ID, clientSecret: env.AUTH_GITHUB_SECRET } : null,
  });
  return { rooms, accounts, sessions, members, invites, guests, tokens, access, authn, secureCookies };
}
