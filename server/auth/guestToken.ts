import { signToken, verifyToken } from './signedToken';

/**
 * The cookie of someone who joined a room by invite link without an account. One cookie per room
 * (`tandem_guest_<room>`), naming a row of `guests`: the row holds the role, so owners change it
 * live, and revoking the row shuts the cookie out however long it has left.
 */
export const GUEST_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const guestCookieName = (room: string) => `tandem_guest_${room}`;

export function signGuestToken(secret: string, room: string, guestId: string, now = Date.now()): string {
  return signToken(secret, 'guest', [room, guestId], now + GUEST_TOKEN_TTL_MS);
}

/** The guest id when the token is valid for this room. */
export function verifyGuestToken(secret: string, token: unknown, room: string, now = Date.now()): string | null {
  const f = verifyToken(secret, 'guest', token, 2, now);
  return f && f[0] === room ? f[1] : null;
}
