'use client';

import { durationOf, formatDuration, isFinal, type CommandView } from './remoteApi';

/** One room's slot in a run: its command once the server took it, or why not (`note`). */
export interface Cell {
  room: string;
  command?: CommandView;
  /** Something to say about this room: why it got no command, or a connection problem. */
  note?: string;
  cancelling?: boolean;
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`remote-state remote-state-${state}`}>{state}</span>;
}

/** A result: state, exit code, duration and the output, as text. */
export default function ResultCell({
  cell,
  name,
  now,
  watching,
  onCancel,
  onWatch,
}: {
  cell: Cell;
  name?: string;
  now: number;
  watching: boolean;
  onCancel: () => void;
  onWatch: () => void;
}) {
  const c = cell.command;
  const state = c?.state ?? (cell.note ? 'error' : 'sending');
  const ms = c ? durationOf(c, now) : null;
  const final = c ? isFinal(c.state) : false;

  return (
    <article className="remote-cell" data-room={cell.room} data-state={state} aria-label={`Result in ${name ?? cell.room}`}>
      <header className="remote-cell-head">
        <span className="remote-cell-title">
          <span className="remote-room-name">{name ?? cell.room}</span>
          <span className="remote-room-id">{cell.room}</span>
        </span>
        <StateBadge state={state} />
      </header>
      <div className="remote-cell-meta">
        {c && final && (
          <span className="remote-exit" data-exit={c.exitCode ?? ''}>
            exit {c.exitCode ?? '—'}
          </span>
        )}
        {ms !== null && <span className="remote-duration">{formatDuration(ms)}{final ? '' : '…'}</span>}
        <span className="spacer" />
        {!watching && (
          <button type="button" className="secondary remote-small" onClick={onWatch}>
            Watch
          </button>
        )}
        {c && !final && (
          <button type="button" className="secondary remote-small remote-cancel" onClick={onCancel} disabled={cell.cancelling}>
            {cell.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {cell.note && <p className="remote-cell-note">{cell.note}</p>}
      {c?.error && <p className="remote-cell-note">{c.error}</p>}
      {c && final ? (
        <pre className="remote-output" tabIndex={0}>
          {c.output ?? ''}
          {c.truncated && <span className="remote-muted">{'\n'}[output truncated]</span>}
        </pre>
      ) : (
        c && <p className="remote-muted remote-waiting">{c.state === 'queued' ? 'Queued: waits for the room’s VM and an idle prompt.' : 'Running…'}</p>
      )}
    </article>
  );
}
