/**
 * next-auth v5: email + password (Credentials) and, when AUTH_GITHUB_ID/AUTH_GITHUB_SECRET are set,
 * GitHub. Credentials sign-in needs next-auth's JWT strategy; each JWT names a row of `sessions`
 * (server/accounts/SessionStore.ts) and stops working when the row goes, so sign-out is real.
 * Our own server reads the same cookie (server/auth/sessionJwt.ts).
 */
import NextAuth, { CredentialsSignin, type NextAuthConfig } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import GitHub from 'next-auth/providers/github';
import { authServices, CLIENT_IP_HEADER } from './services';
import { SESSION_MAX_AGE_S } from './sessionJwt';
import { attemptSignIn } from './signInAttempt';

class RateLimitedSignIn extends CredentialsSignin {
  code = 'rate_limited';
}

export const { handlers, auth, signIn, signOut } = NextAuth((): NextAuthConfig => {
  const s = authServices();
  const providers: NextAuthConfig['providers'] = [
    Credentials({
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(creds, request) {
        const ip = request?.headers?.get(CLIENT_IP_HEADER) ?? 'unknown';
        const user = await attemptSignIn(s, { email: creds?.email, password: creds?.password, ip });
        if (user === 'rate_limited') throw new RateLimitedSignIn();
        if (!user) return null;
        return { id: user.id, name: user.name, email: user.email };
      },
    }),
  ];
  if (s.github) providers.push(GitHub({ clientId: s.github.clientId, clientSecret: s.github.clientSecret }));
  return {
    secret: s.secret,
    trustHost: true,
    useSecureCookies: s.secureCookies,
    session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE_S },
    pages: { signIn: '/signin', error: '/signin' },
    providers,
    callbacks: {
      async jwt({ token, user, account, profile }) {
        if (user) {
          // Signing in: GitHub vouches for an email, which names (or creates) our account.
          const u = account?.provider === 'github' ? s.accounts.upsertOAuthUser(profile?.email ?? user.email, profile?.name ?? user.name) : { id: user.id!, name: user.name, email: user.email };
          return { sub: u.id, sid: s.sessions.create(u.id), name: u.name, email: u.email };
        }
        // Every later read: the server-side session must still exist.
        if (typeof token.sid !== 'string' || typeof token.sub !== 'string' || !s.sessions.isValid(token.sid, token.sub)) return null;
        return token;
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        return session;
      },
    },
    events: {
      signOut(message) {
        const sid = 'token' in message ? message.token?.sid : undefined;
        if (typeof sid === 'string') s.sessions.end(sid);
      },
    },
  };
});

/** Whether the GitHub button should show. */
export function githubEnabled(): boolean {
  try {
    return authServices().github !== null;
  } catch {
    return false;
  }
}
