'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { StateBadge } from './ResultCell';
import { callApi, durationOf, formatDuration, isFinal, type CommandView, type RoomInfo } from './remoteApi';

const HISTORY_LIMIT = 20;

/** Recent commands (all rooms, or one), newest first; a click shows one's output. */
export default function HistoryPanel({
  apiKey,
  rooms,
  names,
  refresh,
  onError,
}: {
  apiKey: string;
  rooms: RoomInfo[] | null;
  names: Map<string, string>;
  /** Changes whenever the list should be fetched again. */
  refresh: number;
  onError: (e: unknown) => string;
}) {
  const [room, setRoom] = useState('');
  const [list, setList] = useState<CommandView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<CommandView | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);
  // Read at call time: typing a key must not refetch on every keystroke.
  const keyRef = useRef(apiKey);
  keyRef.current = apiKey;

  const load = useCallback(async () => {
    if (!keyRef.current || rooms === null) return;
    setLoading(true);
    try {
      const path = room ? `/api/rooms/${room}/commands?limit=${HISTORY_LIMIT}` : `/api?limit=${HISTORY_LIMIT}`;
      const { data } = await callApi<{ commands: CommandView[] }>(keyRef.current, path);
      setList(data.commands);
      setError(null);
    } catch (e) {
      setError(onError(e));
    } finally {
      setLoading(false);
    }
  }, [room, rooms, onError]);

  useEffect(() => {
    void load();
  }, [load, refresh]);

  async function show(c: CommandView) {
    if (open?.id === c.id) return setOpen(null);
    setOpen(c);
    setOpenError(null);
    try {
      const { data } = await callApi<CommandView>(keyRef.current, `/api/commands/${c.id}`);
      setOpen((o) => (o?.id === c.id ? data : o));
    } catch (e) {
      setOpenError(onError(e));
    }
  }

  return (
    <section className="remote-panel" aria-labelledby="remote-history-h">
      <div className="remote-panel-head">
        <h2 id="remote-history-h">History</h2>
        <span className="row">
          <select aria-label="History of" value={room} onChange={(e) => setRoom(e.target.value)} disabled={!rooms}>
            <option value="">All rooms</option>
            {rooms?.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name} ({r.id.slice(0, 8)})
              </option>
            ))}
          </select>
          <button type="button" className="secondary remote-small" onClick={() => void load()} disabled={!rooms || loading}>
            {loading ? 'Loading…' : 'Refresh'}
          </button>
        </span>
      </div>
      {!rooms && <p className="remote-muted">Load the rooms to see recent commands.</p>}
      {error && <p className="remote-cell-note">{error}</p>}
      {list?.length === 0 && <p className="remote-muted">No commands yet.</p>}
      {list && list.length > 0 && (
        <table className="remote-history">
          <thead>
            <tr>
              <th>When</th>
              <th>Room</th>
              <th>Command</th>
              <th>State</th>
              <th>Exit</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => {
              const ms = durationOf(c);
              return (
                <tr
                  key={c.id}
                  className={open?.id === c.id ? 'open' : ''}
                  tabIndex={0}
                  onClick={() => void show(c)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), void show(c))}
                  aria-expanded={open?.id === c.id}
                >
                  <td className="remote-muted">{new Date(c.createdAt).toLocaleTimeString()}</td>
                  <td title={c.room}>{names.get(c.room) ?? c.room.slice(0, 8)}</td>
                  <td>
                    <code className="remote-history-cmd">{c.cmd}</code>
                  </td>
                  <td>
                    <StateBadge state={c.state} />
                  </td>
                  <td>{isFinal(c.state) ? (c.exitCode ?? '—') : ''}</td>
                  <td>{ms === null ? '' : formatDuration(ms)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {open && (
        <div className="remote-history-detail">
          <div className="remote-panel-head">
            <code className="remote-run-cmd">{open.cmd}</code>
            <button type="button" className="secondary remote-small" onClick={() => setOpen(null)}>
              Close
            </button>
          </div>
          {openError && <p className="remote-cell-note">{openError}</p>}
          {open.error && <p className="remote-cell-note">{open.error}</p>}
          {isFinal(open.state) ? (
            <pre className="remote-output">{open.output ?? 'Loading…'}</pre>
          ) : (
            <p className="remote-muted">{open.state === 'queued' ? 'Still queued.' : 'Still running.'}</p>
          )}
        </div>
      )}
    </section>
  );
}
