import crypto from 'node:crypto';

/**
 * Short HMAC-SHA256 tokens `field.field….expiry.mac` for things the server hands out and checks
 * itself (host tokens, guest cookies). `purpose` is mixed into the MAC, so a token of one kind
 * never passes as another. Fields must not contain dots. Compared in constant time.
 */
export const MAX_SIGNED_TOKEN_CHARS = 300;

export function signToken(secret: string, purpose: string, fields: readonly string[], expiresAtMs: number): string {
  const exp = String(Math.floor(expiresAtMs));
  return [...fields, exp, mac(secret, purpose, fields, exp)].join('.');
}

/** The token's fields when its MAC is right and it has not expired, else null. */
export function verifyToken(secret: string, purpose: string, token: unknown, fieldCount: number, now = Date.now()): string[] | null {
  if (typeof token !== 'string' || token.length > MAX_SIGNED_TOKEN_CHARS) return null;
  const parts = token.split('.');
  if (parts.length !== fieldCount + 2) return null;
  const fields = parts.slice(0, fieldCount);
  const [exp, sig] = parts.slice(fieldCount);
  if (!/^\d{1,16}$/.test(exp) || Number(exp) < now) return null;
  const want = Buffer.from(mac(secret, purpose, fields, exp));
  const got = Buffer.from(sig);
  return want.length === got.length && crypto.timingSafeEqual(want, got) ? fields : null;
}

function mac(secret: string, purpose: string, fields: readonly string[], exp: string): string {
  return crypto.createHmac('sha256', secret).update(`${purpose}:${fields.join(':')}:${exp}`).digest('base64url');
}
