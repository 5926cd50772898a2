import type { AccountStore, User } from '../accounts/AccountStore';
import type { RateLimiter } from '../accounts/RateLimiter';
import { clientPrefix } from '../access/clientPrefix';

export const MAX_SIGN_IN_EMAIL_CHARS = 320;

/**
 * One password sign-in, rate-limited per address and per email *and* address: guessing one
 * account's password from one place stops after a few tries, but nobody can lock the real owner
 * out by failing on purpose from elsewhere (a limit on the email alone would let anyone do that).
 * Returns the user, null (wrong email or password) or 'rate_limited'.
 */
export async function attemptSignIn(
  s: { accounts: Pick<AccountStore, 'verifyCredentials'>; signInPerIp: RateLimiter; signInPerEmail: RateLimiter },
  input: { email: unknown; password: unknown; ip: string },
): Promise<User | null | 'rate_limited'> {
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase().slice(0, MAX_SIGN_IN_EMAIL_CHARS) : '';
  const client = clientPrefix(input.ip);
  const emailKey = `email:${email}|${client}`;
  if (!s.signInPerIp.consume(`ip:${client}`).ok || !s.signInPerEmail.consume(emailKey).ok) return 'rate_limited';
  const user = await s.accounts.verifyCredentials(email, input.password);
  if (user) s.signInPerEmail.reset(emailKey);
  return user;
}
