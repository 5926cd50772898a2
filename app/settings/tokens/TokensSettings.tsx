'use client';

import { useCallback, useEffect, useState } from 'react';
import { ApiError, accounts, explain, relativeTime, type ApiToken } from '../../../lib/browser/client/accountsApi';
import AccountMenu from '../../_components/AccountMenu';
import TopBar from '../../_components/TopBar';
import { useHydrated } from '../../_components/useHydrated';
import Alert from '../../_components/Alert';

const MAX_TOKEN_NAME_CHARS = 64;

export default function TokensSettings() {
  const hydrated = useHydrated();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [signedOut, setSignedOut] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [fresh, setFresh] = useState<{ id: string; name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirm, setConfirm] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens((await accounts.tokens()).tokens);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setSignedOut(true);
      else setProblem(explain(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  const create = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    // Read from the form, not from state: what was typed before the page hydrated counts too.
    const name = String(new FormData(form).get('name') ?? '').trim();
    if (!name) return setProblem('Give the token a name, so you know later what uses it.');
    setBusy(true);
    setProblem(null);
    try {
      const t = await accounts.createToken(name);
      setFresh(t);
      setCopied(false);
      form.reset();
      await load();
    } catch (err) {
      setProblem(explain(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    setProblem(null);
    try {
      await accounts.revokeToken(id);
      if (fresh?.id === id) setFresh(null);
      setConfirm(null);
      await load();
    } catch (err) {
      setProblem(explain(err));
    }
  };

  return (
    <main className="page">
      <TopBar label="API tokens" end={<AccountMenu />} />
      <div className="page-body">
        {signedOut ? (
          <section className="panel">
            <h2>Sign in to manage API tokens</h2>
            <p>
              <a href={`/signin?next=${encodeURIComponent('/settings/tokens')}`}>Sign in</a> first.
            </p>
          </section>
        ) : (
          <>
            <section className="panel">
              <h2>New token</h2>
              <p className="muted">
                A token acts as you in the command API (<code>Authorization: Bearer TOKEN</code>), in rooms where you are instructor or owner. See{' '}
                <a href="/api/openapi.json">the API reference</a>.
              </p>
              <form className="row wrap" method="post" onSubmit={create}>
                <input className="grow" aria-label="Token name" placeholder="Name, e.g. grading script" required maxLength={MAX_TOKEN_NAME_CHARS} name="name" />
                <button type="submit" disabled={busy || !hydrated}>
                  {busy ? 'Creating…' : 'Create token'}
                </button>
              </form>
              {fresh && (
                <div className="secret-once" role="status">
                  <p>
                    Token <strong>{fresh.name}</strong> created. Copy it now: it is shown only once.
                  </p>
                  <div className="row">
                    <input className="grow mono" readOnly aria-label="New token" value={fresh.token} onFocus={(e) => e.currentTarget.select()} />
                    <button
                      className="secondary"
                      onClick={() => {
                        void navigator.clipboard?.writeText(fresh.token).then(() => setCopied(true));
                      }}
                    >
                      {copied ? 'Copied' : 'Copy'}
                    </button>
                    <button className="secondary" onClick={() => setFresh(null)}>
                      Done
                    </button>
                  </div>
                  <pre className="usage mono">{`curl -s -X POST ${typeof window === 'undefined' ? '' : window.location.origin}/api/rooms/ROOM_ID/commands \\
  -H "Authorization: Bearer ${fresh.token}" -d '{"cmd":"uname -a"}'`}</pre>
                </div>
              )}
            </section>
            <Alert text={problem} />
            <section className="panel">
              <h2>Your tokens</h2>
              {!tokens ? (
                <p className="muted">Loading…</p>
              ) : tokens.length === 0 ? (
                <p className="muted">No tokens yet.</p>
              ) : (
                <table className="table">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Created</th>
                      <th>Last used</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {tokens.map((t) => (
                      <tr key={t.id}>
                        <td>{t.name}</td>
                        <td title={t.createdAt}>{relativeTime(t.createdAt)}</td>
                        <td title={t.lastUsedAt ?? ''}>{relativeTime(t.lastUsedAt)}</td>
                        <td className="actions">
                          {confirm === t.id ? (
                            <span className="row">
                              <button className="danger small" onClick={() => void revoke(t.id)}>
                                Revoke for good
                              </button>
                              <button className="secondary small" onClick={() => setConfirm(null)}>
                                Keep
                              </button>
                            </span>
                          ) : (
                            <button className="secondary small" onClick={() => setConfirm(t.id)}>
                              Revoke
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </>
        )}
      </div>
    </main>
  );
}
