'use client';

import { useCallback, useEffect, useState } from 'react';
import { accounts, explain, relativeTime, type Invite, type MemberRole } from '../../../lib/browser/client/accountsApi';
import { invitableRoles } from '../../../lib/browser/client/roles';

const HOUR_MS = 3_600_000;
const EXPIRY_CHOICES: { label: string; ttlMs?: number }[] = [
  { label: '1 hour', ttlMs: HOUR_MS },
  { label: '1 day', ttlMs: 24 * HOUR_MS },
  { label: '7 days', ttlMs: 7 * 24 * HOUR_MS },
  { label: '30 days', ttlMs: 30 * 24 * HOUR_MS },
  // The server's longest: every link expires.
  { label: '90 days', ttlMs: 90 * 24 * HOUR_MS },
];
const MAX_USES_LIMIT = 10_000;
const REFRESH_MS = 10_000;

function inviteState(i: Invite, now: number): { label: string; live: boolean } {
  if (i.revokedAt) return { label: 'revoked', live: false };
  if (i.expiresAt && Date.parse(i.expiresAt) <= now) return { label: 'expired', live: false };
  if (i.maxUses != null && i.uses >= i.maxUses) return { label: 'used up', live: false };
  return { label: 'active', live: true };
}

/** Invite links (instructor+): create with role, expiry and max uses; copy; list; revoke. */
export default function InvitesPanel({ roomId, myRole }: { roomId: string; myRole: MemberRole | null }) {
  const roles = invitableRoles(myRole);
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [role, setRole] = useState<MemberRole>('viewer');
  const [expiry, setExpiry] = useState(1);
  const [maxUses, setMaxUses] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ id: string; url: string } | null>(null);
  const [copied, setCopied] = useState(false);

  const load = useCallback(async () => {
    try {
      setInvites((await accounts.invites(roomId)).invites);
    } catch (e) {
      setProblem(explain(e));
    }
  }, [roomId]);
  // Uses change as people join: refresh now and then.
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const uses = maxUses.trim() === '' ? undefined : Number(maxUses);
    if (uses !== undefined && (!Number.isInteger(uses) || uses < 1 || uses > MAX_USES_LIMIT)) {
      setProblem(`Max uses must be a whole number from 1 to ${MAX_USES_LIMIT}, or empty for no limit.`);
      return;
    }
    setBusy(true);
    try {
      const r = await accounts.createInvite(roomId, { role, ttlMs: EXPIRY_CHOICES[expiry].ttlMs, maxUses: uses });
      setCreated({ id: r.invite.id, url: r.url });
      setCopied(false);
      await load();
    } catch (err) {
      setProblem(explain(err));
    } finally {
      setBusy(false);
    }
  };

  const copy = (text: string) => {
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };

  const now = Date.now();
  return (
    <section className="side-section" aria-label="Invite links">
      <h3>Invite links</h3>
      <form className="invite-form" onSubmit={create}>
        <label className="field">
          <span>Role</span>
          <select aria-label="Invite role" value={role} onChange={(e) => setRole(e.target.value as MemberRole)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Expires after</span>
          <select aria-label="Invite expiry" value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRY_CHOICES.map((c, i) => (
              <option key={c.label} value={i}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Max uses</span>
          <input aria-label="Invite max uses" inputMode="numeric" placeholder="no limit" value={maxUses} onChange={(e) => setMaxUses(e.target.value)} size={8} />
        </label>
        <button type="submit" disabled={busy || roles.length === 0}>
          {busy ? 'Creating…' : 'Create link'}
        </button>
      </form>
      {created && (
        <div className="secret-once" role="status">
          <p>Send this link. It is shown only now.</p>
          <div className="row">
            <input className="grow mono" readOnly aria-label="New invite link" value={created.url} onFocus={(e) => e.currentTarget.select()} />
            <button className="secondary small" onClick={() => copy(created.url)}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        </div>
      )}
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {invites && invites.length > 0 && (
        <ul className="invite-list">
          {invites.map((i) => {
            const st = inviteState(i, now);
            return (
              <li key={i.id} className={`invite ${st.live ? '' : 'dead'}`} data-invite={i.id} data-state={st.label}>
                <span className={`badge role-${i.role}`}>{i.role}</span>
                <span className="invite-meta">
                  <span>
                    {st.label}
                    {st.live && i.expiresAt && ` · expires ${relativeTime(i.expiresAt, now)}`}
                  </span>
                  <span className="muted">
                    used {i.uses}
                    {i.maxUses != null ? ` of ${i.maxUses}` : ''} · made {relativeTime(i.createdAt, now)}
                  </span>
                </span>
                {!i.revokedAt && (
                  <button
                    className="secondary small danger"
                    onClick={() =>
                      void accounts.revokeInvite(roomId, i.id).then(
                        () => {
                          if (created?.id === i.id) setCreated(null);
                          return load();
                        },
                        (e) => setProblem(explain(e)),
                      )
                    }
                  >
                    Revoke
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {invites && invites.length === 0 && <p className="muted small-text">No invite links yet.</p>}
    </section>
  );
}
