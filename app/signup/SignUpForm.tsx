'use client';

import { useState } from 'react';
import { signIn } from 'next-auth/react';
import { ApiError, accounts, explain } from '../../lib/browser/client/accountsApi';
import { signInProblem } from '../_components/authErrors';
import { useHydrated } from '../_components/useHydrated';

type Field = 'email' | 'name' | 'password';
/** Which field each of the server's sign-up codes is about, so the message sits under it. */
const FIELD_OF: Record<string, Field> = {
  BAD_EMAIL: 'email',
  EMAIL_TAKEN: 'email',
  BAD_NAME: 'name',
  PASSWORD_TOO_SHORT: 'password',
  PASSWORD_TOO_LONG: 'password',
  PASSWORD_TOO_SIMPLE: 'password',
};
const MIN_PASSWORD_CHARS = 10;

export default function SignUpForm({ next }: { next: string }) {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    // Read from the form, not from state: what was typed before the page hydrated counts too.
    const f = new FormData(e.currentTarget);
    const email = String(f.get('email') ?? '').trim();
    const name = String(f.get('name') ?? '').trim();
    const password = String(f.get('password') ?? '');
    const missing: Partial<Record<Field, string>> = {};
    if (!email) missing.email = 'Enter your email address.';
    if (!name) missing.name = 'Enter a name.';
    if (!password) missing.password = 'Choose a password.';
    setProblem(null);
    if (Object.keys(missing).length) return setErrors(missing);
    setBusy(true);
    setErrors({});
    try {
      await accounts.signup({ email, name, password });
    } catch (err) {
      const field = err instanceof ApiError ? FIELD_OF[err.code] : undefined;
      if (field) setErrors({ [field]: explain(err) });
      else setProblem(explain(err));
      setBusy(false);
      return;
    }
    try {
      const r = await signIn('credentials', { email, password, redirect: false });
      if (!r || r.error) {
        // The server does not say whether an email was taken (so nobody can probe for accounts): a
        // failed sign-in right after sign-up usually means this email already had an account.
        setProblem(`Signing in failed: ${signInProblem(r?.error ?? 'CredentialsSignin', r?.code)} If you already have an account with this email, sign in with its password.`);
        setBusy(false);
        return;
      }
      window.location.assign(next);
    } catch {
      setProblem('Your account was created, but the server could not be reached to sign you in. Sign in again.');
      setBusy(false);
    }
  };

  /** Hint and error ids for a field's aria-describedby. */
  const described = (f: Field, hint?: string) => [hint, errors[f] ? `${f}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const fieldError = (f: Field) =>
    errors[f] ? (
      <span className="field-error" role="alert" id={`${f}-error`}>
        {errors[f]}
      </span>
    ) : null;

  return (
    <main className="auth">
      <div className="auth-card">
        <a href="/" className="auth-brand">Tandem</a>
        <h1>Create an account</h1>
        <form onSubmit={submit} className="form" method="post" noValidate>
          <div className="field">
            <label htmlFor="signup-email">Email</label>
            <input id="signup-email" type="email" name="email" autoComplete="email" required aria-invalid={!!errors.email} aria-describedby={described('email')} />
            {fieldError('email')}
          </div>
          <div className="field">
            <label htmlFor="signup-name">Name</label>
            <input id="signup-name" name="name" autoComplete="name" required maxLength={64} aria-invalid={!!errors.name} aria-describedby={described('name', 'name-hint')} />
            <span className="field-hint" id="name-hint">
              Shown to the people in your rooms.
            </span>
            {fieldError('name')}
          </div>
          <div className="field">
            <label htmlFor="signup-password">Password</label>
            <input
              id="signup-password"
              type="password"
              name="password"
              autoComplete="new-password"
              required
              aria-invalid={!!errors.password}
              aria-describedby={described('password', 'password-hint')}
            />
            <span className="field-hint" id="password-hint">
              At least {MIN_PASSWORD_CHARS} characters; not a common password.
            </span>
            {fieldError('password')}
          </div>
          {problem && (
            <p className="form-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" disabled={busy || !hydrated}>
            {busy ? 'Creating…' : 'Create account'}
          </button>
        </form>
        <p className="auth-foot">
          Have an account? <a href={`/signin${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Sign in</a>
        </p>
      </div>
    </main>
  );
}
