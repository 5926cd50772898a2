import { signToken, verifyToken } from './signedToken';

/** Signed tokens that let the server's own headless browser host a room: `room.expiry.mac`. */
export const HOST_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export function signHostToken(secret: string, room: string, now = Date.now(), ttlMs = HOST_TOKEN_TTL_MS): string {
  return signToken(secret, 'host', [room], now + ttlMs);
}

export function verifyHostToken(secret: string, token: unknown, room: string, now = Date.now()): boolean {
  return verifyToken(secret, 'host', token, 1, now)?.[0] === room;
}
