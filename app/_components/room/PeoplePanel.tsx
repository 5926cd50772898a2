'use client';

import { useCallback, useEffect, useState } from 'react';
import { ApiError, MEMBER_ROLES, accounts, colorFor, explain, type Member, type MemberRole, type RoomMe } from '../../../lib/browser/client/accountsApi';
import { canAssign } from '../../../lib/browser/client/roles';
import type { ControlState, PresentUser } from './useRoomCollab';

const REFRESH_MS = 10_000;

/**
 * Who is here (presence: colour, typing, which tab) and, for members-only rooms, every member with
 * their role; owners and instructors change roles and remove people here.
 */
export default function PeoplePanel({
  roomId,
  me,
  people,
  control,
  tabTitle,
  onGrant,
}: {
  roomId: string;
  me: RoomMe | undefined;
  people: PresentUser[];
  control: ControlState;
  tabTitle: (id: string) => string;
  onGrant: (memberId: string) => void;
}) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);
  const myRole = me?.role ?? null;
  const peopleKey = people.map((p) => p.memberId).sort().join(',');

  /** The member list is for signed-in members; a guest by invite sees presence only. */
  const [listAllowed, setListAllowed] = useState(true);
  const load = useCallback(async () => {
    if (!myRole || !listAllowed) return;
    try {
      setMembers((await accounts.members(roomId)).members);
      setProblem(null);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        setMembers(null);
        setListAllowed(false);
      } else setProblem(explain(e));
    }
  }, [roomId, myRole, listAllowed]);
  // Refresh when someone arrives or leaves, when my role changes, and now and then.
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [load, peopleKey]);

  const act = async (f: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await f();
    } catch (e) {
      setProblem(explain(e));
    }
    await load();
  };

  const online = new Map<string, PresentUser[]>();
  for (const p of people) online.set(p.memberId, [...(online.get(p.memberId) ?? []), p]);
  const memberIds = new Set(members?.map((m) => m.memberId));
  // Present but not in the member list: open rooms, or someone whose list entry has not loaded yet.
  const others = people.filter((p) => !memberIds.has(p.memberId) && !(p.self && me && memberIds.has(me.memberId)));

  const presence = (memberId: string) => {
    const here = online.get(memberId);
    if (!here?.length) return <span className="muted small-text">away</span>;
    const typing = here.some((p) => p.typing);
    const tabs = [...new Set(here.map((p) => tabTitle(p.tab)))];
    return (
      <span className="presence-line">
        <span className="dot on" />
        {typing ? <span className="typing">typing…</span> : <span className="muted small-text">watching {tabs.join(', ')}</span>}
      </span>
    );
  };

  return (
    <section className="side-section" aria-label="People">
      <h3>People</h3>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      <ul className="member-list">
        {members?.map((m) => {
          const isMe = m.memberId === me?.memberId;
          const options = MEMBER_ROLES.filter((r) => r === m.role || canAssign(myRole, m.role, r));
          const hand = control.hands.includes(m.memberId);
          return (
            <li key={m.memberId} className="member" data-member={m.memberId} data-role={m.role}>
              <span className="swatch" style={{ background: colorFor(m.memberId) }} />
              <span className="member-main">
                <span className="member-name">
                  {m.name}
                  {isMe && <span className="muted"> (you)</span>}
                  {m.kind === 'guest' && <span className="muted"> · guest</span>}
                  {hand && <span className="badge role-viewer small-badge">hand up</span>}
                  {control.mode === 'single' && control.holder === m.memberId && <span className="badge role-driver small-badge">keyboard</span>}
                </span>
                {presence(m.memberId)}
              </span>
              {!isMe && options.length > 1 ? (
                <select aria-label={`Role of ${m.name}`} value={m.role} onChange={(e) => void act(() => accounts.setRole(roomId, m.memberId, e.target.value as MemberRole))}>
                  {options.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              ) : (
                <span className={`badge role-${m.role}`}>{m.role}</span>
              )}
              {!isMe && hand && me?.canManage && (
                <button className="small" onClick={() => onGrant(m.memberId)}>
                  Give keyboard
                </button>
              )}
              {!isMe &&
                canAssign(myRole, m.role, null) &&
                (confirmRemove === m.memberId ? (
                  <span className="row">
                    <button className="danger small" onClick={() => void act(() => accounts.removeMember(roomId, m.memberId)).then(() => setConfirmRemove(null))}>
                      Remove
                    </button>
                    <button className="secondary small" onClick={() => setConfirmRemove(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button className="secondary small" aria-label={`Remove ${m.name}`} onClick={() => setConfirmRemove(m.memberId)}>
                    ×
                  </button>
                ))}
            </li>
          );
        })}
        {others.map((p) => (
          <li key={p.clientId} className="member" data-member={p.memberId}>
            <span className="swatch" style={{ background: p.color }} />
            <span className="member-main">
              <span className="member-name">
                {p.name}
                {p.self && <span className="muted"> (you)</span>}
              </span>
              <span className="presence-line">
                <span className="dot on" />
                {p.typing ? <span className="typing">typing…</span> : <span className="muted small-text">watching {tabTitle(p.tab)}</span>}
              </span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
