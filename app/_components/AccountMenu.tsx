'use client';

import { useEffect, useState } from 'react';
import { signOut } from 'next-auth/react';
import { accounts, type Me } from '../../lib/browser/client/accountsApi';

/**
 * The top bar's account corner: who I am and "Sign out", or "Sign in / Sign up" (back to this
 * page afterwards). `user` skips the fetch when a server component already knows.
 */
export default function AccountMenu({ user: known }: { user?: Me | null }) {
  const [user, setUser] = useState<Me | null | undefined>(known);
  const [next, setNext] = useState('/');

  useEffect(() => {
    setNext(window.location.pathname + window.location.search);
    if (known !== undefined) return;
    accounts.me().then(
      (r) => setUser(r.user),
      () => setUser(null),
    );
  }, [known]);

  if (user === undefined) return <span className="account" aria-busy="true" />;
  if (!user) {
    const q = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
    return (
      <span className="account">
        <a href={`/signin${q}`}>Sign in</a>
        <span className="muted">/</span>
        <a href={`/signup${q}`}>Sign up</a>
      </span>
    );
  }
  return (
    <span className="account">
      <span className="account-name" title={user.email}>
        {user.name}
      </span>
      <a href="/settings/tokens">API tokens</a>
      <button className="secondary small" onClick={() => void signOut({ redirectTo: '/' })}>
        Sign out
      </button>
    </span>
  );
}
