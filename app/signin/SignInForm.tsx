'use client';

import { useState } from 'react';
import { signIn } from 'next-auth/react';
import { signInProblem } from '../_components/authErrors';
import { useHydrated } from '../_components/useHydrated';

export default function SignInForm({ next, initialError, initialCode, github }: { next: string; initialError: string | null; initialCode: string | null; github: boolean }) {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(signInProblem(initialError, initialCode));

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    // Read from the form, not from state: what was typed before the page hydrated counts too.
    const f = new FormData(e.currentTarget);
    const email = String(f.get('email') ?? '').trim();
    const password = String(f.get('password') ?? '');
    if (!email || !password) return setProblem('Enter your email and password.');
    setBusy(true);
    setProblem(null);
    try {
      const r = await signIn('credentials', { email, password, redirect: false });
      if (!r || r.error) {
        setProblem(signInProblem(r?.error ?? 'CredentialsSignin', r?.code));
        return;
      }
      // A full load, so server components see the new session cookie.
      window.location.assign(next);
    } catch {
      setProblem('Cannot reach the server. Check your connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <a href="/" className="auth-brand">Tandem</a>
        <h1>Sign in</h1>
        <form onSubmit={submit} className="form" method="post" noValidate>
          <label className="field">
            <span>Email</span>
            <input type="email" name="email" autoComplete="email" required />
          </label>
          <label className="field">
            <span>Password</span>
            <input type="password" name="password" autoComplete="current-password" required />
          </label>
          {problem && (
            <p className="form-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" disabled={busy || !hydrated}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        {github && (
          <>
            <div className="auth-or">or</div>
            <button className="secondary wide" onClick={() => void signIn('github', { redirectTo: next })}>
              Sign in with GitHub
            </button>
          </>
        )}
        <p className="auth-foot">
          No account yet? <a href={`/signup${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create one</a>
        </p>
      </div>
    </main>
  );
}
