'use client';

import { useCallback, useEffect, useState } from 'react';

/** Matches server/net/netRoutes.ts InternetState. */
interface InternetState {
  on: boolean;
  switch: boolean | null;
  mode: 'members' | 'on' | 'off';
  reason: 'server_off' | 'switch_off' | 'members_only' | null;
}
interface AuditRow {
  id: number;
  ip: string | null;
  port: number;
  name: string | null;
  bytesUp: number;
  bytesDown: number;
  startedAt: string;
  durationMs: number;
  refused: string | null;
}

/** How often the badge and the panel ask again (the switch may change in another tab). */
const REFRESH_MS = 5000;

const WHY: Record<NonNullable<InternetState['reason']>, string> = {
  server_off: 'this server has no VM network (NET=off)',
  switch_off: "turned off by the room's owner",
  members_only: 'on this server only rooms hosted by a signed-in member get it',
};

function usePoll<T>(url: string, enabled = true): [T | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const load = useCallback(() => {
    if (!enabled) return;
    fetch(url)
      .then((r) => (r.ok ? (r.json() as Promise<T>) : null))
      .then(setData, () => {});
  }, [url, enabled]);
  useEffect(() => {
    load();
    const t = setInterval(load, REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);
  return [data, load];
}

/** "Internet: on — via this server" (or off, and why); owners switch it here. */
export function InternetBadge({ roomId, isOwner }: { roomId: string; isOwner: boolean }) {
  const [state, reload] = usePoll<InternetState>(`/api/rooms/${encodeURIComponent(roomId)}/internet`);
  const [busy, setBusy] = useState(false);
  if (!state) return null;
  const flip = async () => {
    setBusy(true);
    try {
      await fetch(`/api/rooms/${encodeURIComponent(roomId)}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ internet: state.switch === false }),
      });
    } finally {
      setBusy(false);
      reload();
    }
  };
  return (
    <span className="row">
      <span className={`badge net-state ${state.on ? '' : 'bad'}`} title={state.on ? "The VM's connections go through this server, which refuses private addresses" : undefined}>
        {state.on ? 'Internet: on — via this server' : `Internet: off (${WHY[state.reason ?? 'switch_off']})`}
      </span>
      {isOwner && state.reason !== 'server_off' && (
        <button className="secondary small" disabled={busy} onClick={() => void flip()}>
          {state.switch === false ? 'Turn Internet on' : 'Turn Internet off'}
        </button>
      )}
    </span>
  );
}

const kb = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`);

/** The room's network audit for its owners: every connection its VM made or was refused. */
export default function NetworkPanel({ roomId }: { roomId: string }) {
  const [audit] = usePoll<{ connections: AuditRow[]; live: { openStreams: number } }>(`/api/rooms/${encodeURIComponent(roomId)}/net?limit=50`);
  if (!audit) return null;
  return (
    <section className="side-section" aria-label="Network">
      <h3>Network</h3>
      <p className="muted">{audit.live.openStreams} open connections</p>
      {audit.connections.length === 0 ? (
        <p className="muted">No connections yet.</p>
      ) : (
        <ul className="net-audit">
          {audit.connections.map((r) => (
            <li key={r.id} className={r.refused ? 'refused' : ''}>
              <span>{r.name ?? r.ip ?? '?'}:{r.port}</span>{' '}
              <span className="muted">{r.refused ? `refused (${r.refused})` : `↓${kb(r.bytesDown)} ↑${kb(r.bytesUp)}`}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
