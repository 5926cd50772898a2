'use client';

import { useEffect, useRef, useState } from 'react';
import { DEFAULT_TAB, type ProtocolErrorPayload, type RoomState } from '../../lib/shared/protocol';
import { TermStream } from '../../lib/browser/client/TermStream';
import { connectRoom, type Conn as RoomConn, type RoomSocket } from '../../lib/browser/client/roomConnection';

type Conn = RoomConn | 'failed';

function watcherId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `watch-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A room's live terminal, read-only: joins as a guest that never asks to host (so watching never
 * starts a VM or takes over from the headless host) and never sends a key.
 */
export default function WatchTerminal({ roomId }: { roomId: string }) {
  const termEl = useRef<HTMLDivElement>(null);
  const [conn, setConn] = useState<Conn>('connecting');
  const [state, setState] = useState<RoomState | null>(null);
  const [fatal, setFatal] = useState<ProtocolErrorPayload | null>(null);

  useEffect(() => {
    let disposed = false;
    let socket: RoomSocket | null = null;
    let term: import('@xterm/xterm').Terminal | null = null;
    setConn('connecting');
    setState(null);
    setFatal(null);

    (async () => {
      const [{ Terminal }, { io }] = await Promise.all([import('@xterm/xterm'), import('socket.io-client')]);
      if (disposed || !termEl.current) return;
      const t = new Terminal({
        disableStdin: true,
        cursorBlink: false,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
        fontSize: 13,
        scrollback: 2000,
        theme: { background: '#000000' },
      });
      term = t;
      t.open(termEl.current);

      const s = connectRoom(io, {
        roomId,
        wantHost: false,
        clientId: watcherId(),
        onConn: setConn,
        onFatal: (err) => {
          setFatal(err);
          if (err) setConn('failed');
        },
      }).socket;
      socket = s;
      const stream = new TermStream(
        { reset: () => t.reset(), write: (d) => t.write(d), resize: (c, r) => t.resize(c, r) },
        () => s.emit('term:sync', { tab: DEFAULT_TAB }),
      );
      s.on('room:state', setState);
      s.on('term:snapshot', (snap) => snap.tab === DEFAULT_TAB && stream.snapshot(snap));
      s.on('term:out', (f) => f.tab === DEFAULT_TAB && stream.out(f));
      s.on('term:resize', (r) => r.tab === DEFAULT_TAB && t.resize(r.cols, r.rows));
    })().catch((err) => {
      if (!disposed) setFatal({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
    });

    return () => {
      disposed = true;
      socket?.disconnect();
      term?.dispose();
    };
  }, [roomId]);

  const host = !state ? '' : !state.hostConnected ? 'no host: the VM is not running' : state.hostHeadless ? 'VM on the server’s headless host' : 'VM in a person’s browser';
  const boot = state?.hostStatus && state.hostStatus.phase !== 'ready' ? `${state.hostStatus.phase} ${Math.round(state.hostStatus.progress * 100)}%` : '';

  return (
    <div className="remote-watch" data-conn={conn} data-room={roomId}>
      <div className="remote-watch-bar">
        <span className={`badge ${conn === 'connected' ? '' : 'bad'}`}>{conn === 'connected' ? 'watching, read-only' : conn}</span>
        {host && <span className={`badge ${state?.hostConnected ? '' : 'bad'}`}>{host}</span>}
        {boot && <span className="badge">{boot}</span>}
        <span className="spacer" />
        <a href={`/r/${roomId}?watch=1`} target="_blank" rel="noreferrer">
          Open room
        </a>
      </div>
      {fatal && <div className="notice bad">{fatal.code === 'ROOM_NOT_FOUND' ? 'This room does not exist any more.' : `${fatal.code}: ${fatal.message}`}</div>}
      <div className="remote-watch-term">
        <div ref={termEl} />
      </div>
    </div>
  );
}
