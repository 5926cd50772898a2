'use client';

import { useEffect, useRef, useState } from 'react';
import { ReplayPlayer, httpReplaySource } from '../../../lib/browser/client/ReplayPlayer';
import Alert from '../Alert';

interface TerminalInfo {
  tab: string;
  title: string;
  durationS: number;
  startT: number;
  bytes: number;
}
interface Listing {
  room: { id: string; name: string; replayOnly: boolean; recordInput: boolean };
  terminals: TerminalInfo[];
}
interface Mark {
  t: number;
  kind: 'command' | 'join' | 'leave';
  label: string;
  exitCode?: number | null;
}
const SPEEDS = [0.5, 1, 2, 4, 8, 16];

const fmt = (s: number) => {
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
};

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
  return body as T;
}

/**
 * A room's recordings: pick a terminal, play, pause, change speed, drag the scrubber (each seek
 * is a keyframe and the events after it, from the server), jump to command blocks and search.
 */
export default function Replay({ roomId }: { roomId: string }) {
  const termEl = useRef<HTMLDivElement>(null);
  const player = useRef<ReplayPlayer | null>(null);
  const [listing, setListing] = useState<Listing | null>(null);
  const [tab, setTab] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const [marks, setMarks] = useState<Mark[]>([]);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ t: number; text: string }[] | null>(null);
  const base = `/api/rooms/${encodeURIComponent(roomId)}/recordings`;

  useEffect(() => {
    getJson<Listing>(base).then(
      (l) => {
        setListing(l);
        setTab(l.terminals.find((t) => t.tab === 'main')?.tab ?? l.terminals[0]?.tab ?? null);
      },
      (e) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, [base]);

  useEffect(() => {
    if (!tab || !termEl.current) return;
    let disposed = false;
    let term: import('@xterm/xterm').Terminal | null = null;
    (async () => {
      const { Terminal } = await import('@xterm/xterm');
      if (disposed || !termEl.current) return;
      const t = new Terminal({ disableStdin: true, fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace', fontSize: 13, scrollback: 2000, theme: { background: '#000000' } });
      term = t;
      t.open(termEl.current);
      const p = new ReplayPlayer(
        httpReplaySource(roomId, tab),
        { reset: () => t.reset(), resize: (c, r) => t.resize(c, r), write: (d) => t.write(d) },
        () => setTick((n) => n + 1),
      );
      player.current = p;
      await p.seek(0);
      const m = await getJson<{ marks: Mark[] }>(`${base}/${encodeURIComponent(tab)}/marks`);
      if (!disposed) setMarks(m.marks);
    })().catch((e) => !disposed && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      disposed = true;
      player.current?.dispose();
      player.current = null;
      term?.dispose();
    };
  }, [roomId, tab, base]);

  const p = player.current;
  const seek = (t: number) => p && void p.seek(t).catch((e) => setError(String(e)));
  const search = async () => {
    if (!tab || !query.trim()) return;
    try {
      setResults((await getJson<{ results: { t: number; text: string }[] }>(`${base}/${encodeURIComponent(tab)}/search?q=${encodeURIComponent(query.trim())}`)).results);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const commands = marks.filter((m) => m.kind === 'command' && m.label.startsWith('$ '));

  return (
    <div className="room replay">
      <div className="topbar">
        <span className="brand">
          <a href="/">Tandem</a>
        </span>
        <span>Replay: {listing?.room.name ?? roomId}</span>
        {listing?.room.replayOnly && <span className="badge">imported</span>}
        <span className="spacer" />
        {listing && !listing.room.replayOnly && <a href={`/r/${roomId}`}>Back to the room</a>}
      </div>
      <Alert text={error} />
      {listing && !listing.terminals.length && <p className="notice">Nothing recorded in this room yet.</p>}
      {listing && listing.terminals.length > 1 && (
        <div className="term-tools" role="tablist" aria-label="Terminals">
          {listing.terminals.map((t) => (
            <button key={t.tab} role="tab" aria-selected={t.tab === tab} className={t.tab === tab ? 'small' : 'secondary small'} onClick={() => setTab(t.tab)}>
              {t.title}
            </button>
          ))}
        </div>
      )}
      <div className="replay-controls term-tools">
        <button aria-label={p?.playing ? 'Pause' : 'Play'} onClick={() => (p?.playing ? p.pause() : p?.play())} disabled={!p}>
          {p?.playing ? 'Pause' : 'Play'}
        </button>
        <label>
          Speed{' '}
          <select aria-label="Speed" value={p?.speed ?? 1} onChange={(e) => p && ((p.speed = Number(e.target.value)), setTick((n) => n + 1))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <input
          aria-label="Position"
          className="replay-scrubber"
          type="range"
          min={p?.startT ?? 0}
          max={p?.endT ?? 0}
          // Any position: a fixed step would snap the end (e.g. 4.803 to 4.80) and leave the last output out.
          step="any"
          value={p?.position ?? 0}
          onChange={(e) => seek(Number(e.target.value))}
          disabled={!p}
        />
        <span className="replay-time" data-testid="replay-time">
          {fmt((p?.position ?? 0) - (p?.startT ?? 0))} / {fmt((p?.endT ?? 0) - (p?.startT ?? 0))}
        </span>
        {tab && (
          <a href={`${base}/${encodeURIComponent(tab)}/export.cast`} download>
            Download .cast
          </a>
        )}
        {/* Needs the room's VM states on the server (saved per point in time); until a state exists here, there is nothing to open. */}
        <button className="secondary" disabled title="No saved VM state at this point of the recording">
          Open a live VM from here
        </button>
      </div>
      <div className="room-body">
        <div className="term-col">
          <div className="term-wrap">
            <div ref={termEl} className="term guest" data-testid="replay-term" />
          </div>
        </div>
        <aside className="replay-side">
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void search();
            }}
          >
            <input aria-label="Search the output" placeholder="Search the output" value={query} onChange={(e) => setQuery(e.target.value)} />
            <button className="secondary small" type="submit">
              Search
            </button>
          </form>
          {results && (
            <TimeList label="Search results" empty="No match." items={results.map((r) => ({ t: r.t, text: r.text }))} startT={p?.startT ?? 0} seek={seek} />
          )}
          <h2>Commands</h2>
          <TimeList
            label="Command blocks"
            empty="No command blocks (the shell's prompt marks)."
            items={commands.map((m) => ({ t: m.t, text: <code>{m.label}</code> }))}
            startT={p?.startT ?? 0}
            seek={seek}
          />
          <h2>People</h2>
          <TimeList label="Joins and leaves" empty="Nobody yet." items={marks.filter((m) => m.kind !== 'command').slice(-100).map((m) => ({ t: m.t, text: m.label }))} startT={p?.startT ?? 0} seek={seek} />
        </aside>
      </div>
    </div>
  );
}

/** Moments of the recording, each with a button that seeks there. */
function TimeList({ label, empty, items, startT, seek }: { label: string; empty: string; items: { t: number; text: React.ReactNode }[]; startT: number; seek: (t: number) => void }) {
  return (
    <ul className="replay-list" aria-label={label}>
      {!items.length && <li>{empty}</li>}
      {items.map((it, i) => (
        <li key={i}>
          <button className="secondary small" onClick={() => seek(it.t)}>
            {fmt(it.t - startT)}
          </button>{' '}
          {it.text}
        </li>
      ))}
    </ul>
  );
}
