import crypto from 'node:crypto';

/**
 * Signed tokens that let the server's own headless browser host a room: `room.expiry.mac`.
 * HMAC-SHA256 over room and expiry; compared in constant time.
 */
export const HOST_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export function signHostToken(secret: string, room: string, now = Date.now(), ttlMs = HOST_TOKEN_TTL_MS): string {
  const exp = String(now + ttlMs);
  return `${room}.${exp}.${mac(secret, room, exp)}`;
}

export function verifyHostToken(secret: string, token: unknown, room: string, now = Date.now()): boolean {
  if (typeof token !== 'string' || token.length > 300) return false;
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [r, exp, sig] = parts;
  if (r !== room || !/^\d{1,16}$/.test(exp) || Number(exp) < now) return false;
  const want = Buffer.from(mac(secret, r, exp));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

function mac(secret: string, room: string, exp: string): string {
  return crypto.createHmac('sha256', secret).update(`host:${room}:${exp}`).digest('base64url');
}
