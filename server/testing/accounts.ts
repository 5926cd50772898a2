import { encodeSessionCookie, sessionCookieName } from '../auth/sessionJwt';
import type { TandemServer } from '../app';
import { call, type Json } from './http';

type Srv = { url: string; server: TandemServer };

/**
 * Signs up through the real route, then signs in the way next-auth does (a `sessions` row and the
 * JWT cookie next-auth would set; next-auth itself runs only under Next, which e2e covers).
 */
export async function signUp(srv: Srv, name: string): Promise<{ id: string; email: string; cookie: string; sid: string }> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]/g, '')}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const r = await call(srv, '/api/account/signup', { method: 'POST', json: { email, name, password: 'correct horse battery 9' } });
  if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${r.text}`);
  const sid = srv.server.sessions.create(r.json.user.id);
  const jwt = await encodeSessionCookie({ userId: r.json.user.id, sid, name, email }, srv.server.secret, srv.server.secureCookies);
  return { id: r.json.user.id, email, sid, cookie: `${sessionCookieName(srv.server.secureCookies)}=${jwt}` };
}

/** A JSON call carrying a cookie. */
export function as(srv: Srv, cookie: string | undefined, path: string, init: RequestInit & { json?: Json } = {}) {
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  return call(srv, path, { ...init, headers });
}

/** The `name=value` part of a Set-Cookie header. */
export function cookieFrom(setCookie: string | null): string {
  if (!setCookie) throw new Error('no Set-Cookie');
  return setCookie.split(';')[0];
}
