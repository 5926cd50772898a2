import { decode, encode } from 'next-auth/jwt';

/**
 * next-auth's session cookie, read by our own server (Socket.IO and Yjs handshakes, JSON routes)
 * exactly as next-auth reads it: the same cookie name, the same secret, the name as salt. The JWT
 * carries `sub` (user id) and `sid` (a row of `sessions`; see SessionStore).
 */
export const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

/** next-auth v5 names the cookie by whether the site is served over https. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Secure-authjs.session-token' : 'authjs.session-token';
}

export interface SessionClaims {
  userId: string;
  sid: string;
}

export async function decodeSessionCookie(value: string | undefined, secret: string, secure: boolean): Promise<SessionClaims | null> {
  if (!value || value.length > 8192) return null;
  try {
    const t = await decode({ token: value, secret, salt: sessionCookieName(secure) });
    if (!t || typeof t.sub !== 'string' || typeof t.sid !== 'string') return null;
    return { userId: t.sub, sid: t.sid };
  } catch {
    return null; // forged, truncated, or signed with another secret
  }
}

/** What next-auth sets at sign-in; tests sign in with it and the dev console can too. */
export function encodeSessionCookie(claims: SessionClaims & { name?: string; email?: string }, secret: string, secure: boolean): Promise<string> {
  return encode({
    token: { sub: claims.userId, sid: claims.sid, name: claims.name, email: claims.email },
    secret,
    salt: sessionCookieName(secure),
    maxAge: SESSION_MAX_AGE_S,
  });
}
