import type { AccountStore } from '../accounts/AccountStore';
import type { RateLimiter } from '../accounts/RateLimiter';
import type { SessionStore } from '../accounts/SessionStore';
import type { Logger } from 'pino';

/**
 * What next-auth (running inside Next's own module graph) needs from the one running server: Next
 * bundles route handlers separately, so a plain module singleton would be a second copy. The
 * custom server registers these on globalThis before it serves a request.
 */
export interface AuthServices {
  secret: string;
  secureCookies: boolean;
  accounts: AccountStore;
  sessions: SessionStore;
  signInPerIp: RateLimiter;
  signInPerEmail: RateLimiter;
  github: { clientId: string; clientSecret: string } | null;
  /** next-auth's own errors go here (throttled), not to the console with a stack each. */
  log?: Logger;
}

const KEY = Symbol.for('tandem.authServices');

export function registerAuthServices(s: AuthServices): void {
  (globalThis as Record<symbol, unknown>)[KEY] = s;
}

export function authServices(): AuthServices {
  const s = (globalThis as Record<symbol, unknown>)[KEY] as AuthServices | undefined;
  if (!s) throw new Error('Tandem: sign-in needs the Tandem server (npm start or npm run dev), not `next start`');
  return s;
}

/** Header the custom server sets on every request it hands to Next (overwriting any sent): the peer's address. */
export const CLIENT_IP_HEADER = 'x-tandem-client-ip';
