'use client';

import { useEffect, useState } from 'react';
import { ApiError, ROLE_LABEL, accounts, explain, type InvitePreview, type Me } from '../../../lib/browser/client/accountsApi';
import { useHydrated } from '../../_components/useHydrated';

const MAX_DISPLAY_NAME_CHARS = 64;
const GONE_TITLE: Record<string, string> = {
  INVITE_NOT_FOUND: 'Invite link not found',
  INVITE_EXPIRED: 'This invite link has expired',
  INVITE_REVOKED: 'This invite link was revoked',
  INVITE_USED_UP: 'This invite link is used up',
};

/** Shows where an invite leads and with which role, asks a display name when signed out, redeems it. */
export default function JoinInvite({ token }: { token: string }) {
  const hydrated = useHydrated();
  const [invite, setInvite] = useState<InvitePreview | null>(null);
  const [user, setUser] = useState<Me | null | undefined>(undefined);
  const [gone, setGone] = useState<{ code: string; text: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    accounts.previewInvite(token).then(setInvite, (e) => setGone({ code: e instanceof ApiError ? e.code : 'NETWORK', text: explain(e) }));
    accounts.me().then(
      (r) => setUser(r.user),
      () => setUser(null),
    );
  }, [token]);

  const join = async (e?: React.FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const r = await accounts.redeemInvite(token, user ? undefined : name.trim());
      window.location.assign(`/r/${encodeURIComponent(r.roomId)}`);
    } catch (err) {
      if (err instanceof ApiError && GONE_TITLE[err.code]) setGone({ code: err.code, text: explain(err) });
      else setProblem(explain(err));
      setBusy(false);
    }
  };

  const here = `/join/${encodeURIComponent(token)}`;

  if (gone)
    return (
      <main className="auth">
        <div className="auth-card" data-error={gone.code}>
          <a href="/" className="auth-brand">Tandem</a>
          <h1>{GONE_TITLE[gone.code] ?? 'Cannot open this invite'}</h1>
          <p>{gone.text}</p>
          <p className="auth-foot">
            <a href="/">Go to Tandem</a>
          </p>
        </div>
      </main>
    );

  if (!invite || user === undefined)
    return (
      <main className="auth">
        <div className="auth-card" aria-busy="true">
          <a href="/" className="auth-brand">Tandem</a>
          <p className="muted">Opening the invite…</p>
        </div>
      </main>
    );

  return (
    <main className="auth">
      <div className="auth-card">
        <a href="/" className="auth-brand">Tandem</a>
        <p className="muted">You are invited to</p>
        <h1 className="join-room">{invite.roomName}</h1>
        <p>
          as <span className={`badge role-${invite.role}`}>{ROLE_LABEL[invite.role]}</span>
          {invite.expiresAt && <span className="muted"> · link valid until {new Date(invite.expiresAt).toLocaleString()}</span>}
        </p>
        {user ? (
          <>
            <p>
              Joining as <strong>{user.name}</strong>.
            </p>
            {problem && (
              <p className="form-error" role="alert">
                {problem}
              </p>
            )}
            <button className="wide" disabled={busy} onClick={() => void join()}>
              {busy ? 'Joining…' : 'Join room'}
            </button>
          </>
        ) : (
          <>
            <form className="form" method="post" onSubmit={join}>
              <label className="field">
                <span>Your name</span>
                <input
                  name="name"
                  autoFocus
                  required
                  maxLength={MAX_DISPLAY_NAME_CHARS}
                  placeholder="How others in the room see you"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              </label>
              {problem && (
                <p className="form-error" role="alert">
                  {problem}
                </p>
              )}
              <button type="submit" disabled={busy || !name.trim() || !hydrated}>
                {busy ? 'Joining…' : 'Join as guest'}
              </button>
            </form>
            <p className="auth-foot">
              Have an account? <a href={`/signin?next=${encodeURIComponent(here)}`}>Sign in</a> to keep this room on your dashboard.
            </p>
          </>
        )}
      </div>
    </main>
  );
}
