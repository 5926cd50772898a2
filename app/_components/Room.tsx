'use client';

import { useEffect, useRef, useState } from 'react';
import type { Socket } from 'socket.io-client';
import {
  DEFAULT_TAB,
  MAX_OUTPUT_CHUNK_BYTES,
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ProtocolErrorPayload,
  type Role,
  type RoomState,
  type ServerToClientEvents,
} from '../../lib/protocol';
import type { BootProgress, Engine } from '../../lib/vm/Engine';
import { TermStream } from '../../lib/client/TermStream';
import { usePresence } from './usePresence';
import { CommandBlocks } from '../../lib/client/CommandBlocks';

type Conn = 'connecting' | 'connected' | 'reconnecting';
/** Connect errors after which retrying cannot help. */
const FATAL_CODES = new Set(['ROOM_NOT_FOUND', 'BAD_ROOM_ID', 'PROTOCOL_MISMATCH', 'BAD_MESSAGE', 'UNAUTHORIZED', 'FORBIDDEN']);
const STATUS_EVERY_MS = 250;
/** Output frames kept for the server while the host's connection is down (each ≤ 64 KiB). */
const MAX_BUFFERED_FRAMES_OFFLINE = 256;

/** The server's headless host opens rooms with `#host=<signed token>`. */
function hostTokenFromHash(): string | undefined {
  const m = /(?:^#|&)host=([^&]+)/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]) : undefined;
}

function clientId(): string {
  const key = 'tandem:client';
  let id = sessionStorage.getItem(key);
  if (!id) sessionStorage.setItem(key, (id = crypto.randomUUID()));
  return id;
}

export default function Room({ roomId }: { roomId: string }) {
  const termEl = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<RoomState | null>(null);
  const [conn, setConn] = useState<Conn>('connecting');
  const [fatal, setFatal] = useState<ProtocolErrorPayload | null>(null);
  const [boot, setBoot] = useState<BootProgress | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [commands, setCommands] = useState(0);
  const [engineNotice, setEngineNotice] = useState<string | null>(null);
  const blocksRef = useRef<CommandBlocks | null>(null);

  useEffect(() => {
    let disposed = false;
    let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
    let engine: Engine | null = null;
    let term: import('@xterm/xterm').Terminal | null = null;
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    const flash = (text: string) => {
      setNotice(text);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => setNotice(null), 5000);
    };

    (async () => {
      const [{ Terminal }, { FitAddon }, { io }] = await Promise.all([
        import('@xterm/xterm'),
        import('@xterm/addon-fit'),
        import('socket.io-client'),
      ]);
      if (disposed || !termEl.current) return;
      const t = new Terminal({
        cursorBlink: true,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
        fontSize: 14,
        scrollback: 5000,
        theme: { background: '#000000' },
        allowProposedApi: true, // decorations for command badges
      });
      term = t;
      const fit = new FitAddon();
      t.loadAddon(fit);
      t.open(termEl.current);
      const blocks = new CommandBlocks(t, setCommands);
      blocksRef.current = blocks;

      const hostToken = hostTokenFromHash();
      const params = new URLSearchParams(window.location.search);
      const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({
        path: '/socket.io',
        transports: ['websocket'],
        // `?watch` joins as a guest even when nobody hosts (e.g. to watch the headless host).
        auth: { v: PROTOCOL_VERSION, room: roomId, clientId: clientId(), wantHost: !params.has('watch'), hostToken },
      });
      socket = s;
      let role: Role | null = null;
      let hostSeq = 0;
      let lastStatus: BootProgress | null = null;
      let lastStatusSent = 0;
      const stream = new TermStream(
        {
          reset: () => {
            blocks.reset();
            t.reset();
          },
          write: (d) => t.write(d),
          resize: (c, r) => t.resize(c, r),
        },
        () => s.emit('term:sync', { tab: DEFAULT_TAB }),
      );

      const sendStatus = (p: BootProgress, force = false) => {
        lastStatus = p;
        const now = Date.now();
        if (!force && p.phase === 'booting' && now - lastStatusSent < STATUS_EVERY_MS) return;
        lastStatusSent = now;
        s.emit('host:status', { tab: DEFAULT_TAB, ...p });
      };
      const sendSize = () => s.emit('term:resize', { tab: DEFAULT_TAB, cols: t.cols, rows: t.rows });

      const startHosting = async () => {
        fit.fit();
        sendSize();
        const [{ createEngine }, manifest] = await Promise.all([
          import('../../lib/vm/createEngine'),
          fetch(`/vm/manifest.json?room=${encodeURIComponent(roomId)}`).then((r) => r.json()),
        ]);
        if (disposed || role !== 'host') return;
        const choice = (['auto', 'cheerpx', 'v86'] as const).find((c) => c === params.get('engine')) ?? manifest.engineChoice;
        let e: Engine;
        try {
          e = await createEngine({
            // The headless host always runs v86: its boot snapshot is what every host restores.
            choice: hostToken ? 'v86' : choice,
            manifest,
            cheerpx: { disk: manifest.cheerpxDisk, overlayKey: `tandem:${roomId}:${manifest.cheerpxDisk}`, bashrcUrl: '/vm/tandem.bashrc', cols: t.cols, rows: t.rows },
            notice: (text) => setEngineNotice(text),
            publishSnapshot: hostToken
              ? async (gz) => {
                  const r = await fetch(`/vm/boot-snapshot/${manifest.version}`, { method: 'PUT', body: gz, headers: { 'x-host-token': hostToken } });
                  if (!r.ok) throw new Error(`boot snapshot refused: ${r.status}`);
                }
              : undefined,
          });
        } catch (err) {
          const p: BootProgress = { phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) };
          setBoot(p);
          sendStatus(p, true);
          return;
        }
        if (disposed || role !== 'host') return void e.destroy();
        engine = e;
        e.onOutput((data) => {
          t.write(data);
          // While disconnected Socket.IO buffers emits for the reconnect; past a cap we drop them
          // rather than grow without bound (guests then resync from the mirror).
          const buffered = (s as unknown as { sendBuffer: unknown[] }).sendBuffer;
          if (!s.connected && buffered.length > MAX_BUFFERED_FRAMES_OFFLINE) return;
          for (let i = 0; i < data.length; i += MAX_OUTPUT_CHUNK_BYTES)
            s.emit('term:out', { tab: DEFAULT_TAB, seq: ++hostSeq, data: data.slice(i, i + MAX_OUTPUT_CHUNK_BYTES) });
        });
        try {
          await e.boot((p) => {
            setBoot(p);
            sendStatus(p, p.phase !== 'booting');
          });
        } catch (err) {
          const p: BootProgress = { phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) };
          setBoot(p);
          sendStatus(p, true);
        }
      };

      const stopHosting = async () => {
        const e = engine;
        engine = null;
        setBoot(null);
        await e?.destroy();
      };

      t.onData((data) => {
        if (role === 'host') engine?.write(data);
        else s.emit('term:in', { tab: DEFAULT_TAB, data });
      });
      const onWindowResize = () => {
        if (role !== 'host') return;
        fit.fit();
      };
      t.onResize(() => role === 'host' && sendSize());
      window.addEventListener('resize', onWindowResize);

      s.on('connect', () => {
        setConn('connected');
        setFatal(null);
      });
      s.on('disconnect', () => setConn('reconnecting'));
      s.on('connect_error', (err) => {
        const data = (err as Error & { data?: ProtocolErrorPayload }).data;
        if (data && FATAL_CODES.has(data.code)) {
          setFatal(data);
          s.disconnect();
        } else setConn('reconnecting');
      });
      s.on('room:state', (st) => {
        setState(st);
        if (st.role === role) {
          // Same seat after a reconnect: tell the server where the VM stands again.
          if (role === 'host' && lastStatus) {
            sendSize();
            sendStatus(lastStatus, true);
          }
          return;
        }
        const was = role;
        role = st.role;
        if (role === 'host') {
          void startHosting();
        } else if (was === 'host') {
          flash('Another browser is hosting this room now; you are watching.');
          void stopHosting();
          s.emit('term:sync', { tab: DEFAULT_TAB }); // the new host's screen, from the server's mirror
        }
      });
      s.on('term:snapshot', (snap) => role === 'guest' && stream.snapshot(snap));
      s.on('term:out', (f) => role === 'guest' && stream.out(f));
      s.on('term:resize', (r) => role === 'guest' && t.resize(r.cols, r.rows));
      s.on('term:in', (m) => role === 'host' && engine?.write(m.data));
      s.on('room:error', (e) => flash(`${e.code}: ${e.message}`));
      t.focus();

      return () => window.removeEventListener('resize', onWindowResize);
    })().then(
      (cleanup) => {
        if (disposed) cleanup?.();
      },
      (err) => setFatal({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }),
    );

    return () => {
      disposed = true;
      clearTimeout(noticeTimer);
      socket?.disconnect();
      void engine?.destroy();
      term?.dispose();
    };
  }, [roomId]);

  const role = state?.role;
  const people = usePresence(roomId, role);
  const progress = role === 'host' ? boot : state?.hostStatus;
  const phase = progress?.phase ?? (state && !state.hostConnected ? 'waiting' : 'loading');
  const shareUrl = typeof window === 'undefined' ? '' : `${window.location.origin}/r/${roomId}`;

  if (fatal && ['ROOM_NOT_FOUND', 'BAD_ROOM_ID'].includes(fatal.code)) {
    return (
      <main className="center" data-error={fatal.code}>
        <h1>Room not found</h1>
        <p>There is no room called “{roomId}”. Check the link, or start a new one.</p>
        <NewRoomForm />
      </main>
    );
  }

  return (
    <main className="room" data-role={role ?? ''} data-conn={conn} data-phase={phase}>
      <header className="topbar">
        <span className="brand">
          <a href="/">Tandem</a>
        </span>
        <span className="badge">room {roomId}</span>
        {role && <span className={`badge ${role}`}>{role === 'host' ? 'hosting the VM' : 'guest'}</span>}
        {state?.hostHeadless && role === 'guest' && <span className="badge">VM runs on the server’s headless host</span>}
        <span className={`badge ${conn === 'connected' ? '' : 'bad'}`}>{conn}</span>
        {state && <span className="badge">{state.guests} {state.guests === 1 ? 'guest' : 'guests'}</span>}
        <span className="people" aria-label="People in this room">
          {people.map((p) => (
            <span key={p.clientId} className="person" title={`${p.name} (${p.role})`} style={{ borderColor: p.color }}>
              {p.name}
            </span>
          ))}
        </span>
        <span className="spacer" />
        <span className="row" aria-label="Commands">
          <button className="secondary" title="Previous command" disabled={!commands} onClick={() => blocksRef.current?.jump(-1)}>
            ↑
          </button>
          <button className="secondary" title="Next command" disabled={!commands} onClick={() => blocksRef.current?.jump(1)}>
            ↓
          </button>
        </span>
        <span className="row">
          <input readOnly value={shareUrl} aria-label="Share link" size={34} onFocus={(e) => e.currentTarget.select()} />
          <button
            className="secondary"
            onClick={() => {
              void navigator.clipboard?.writeText(shareUrl).then(() => setCopied(true));
              setTimeout(() => setCopied(false), 1500);
            }}
          >
            {copied ? 'Copied' : 'Copy link'}
          </button>
        </span>
        <NewRoomForm compact />
      </header>
      {fatal && <div className="notice bad">{fatal.code}: {fatal.message}</div>}
      {state && !state.hostConnected && role === 'guest' && (
        <div className="notice warn" role="status">
          Host disconnected — the room waits for the host to return.
        </div>
      )}
      {notice && <div className="notice warn">{notice}</div>}
      {engineNotice && role === 'host' && (
        <div className="notice warn" role="status">
          {engineNotice}
        </div>
      )}
      {progress && progress.phase !== 'ready' && (
        <>
          <div className="progress" role="progressbar" aria-valuenow={Math.round(progress.progress * 100)} aria-valuemin={0} aria-valuemax={100}>
            <div style={{ width: `${Math.round(progress.progress * 100)}%` }} />
          </div>
          <div className={`status ${progress.phase === 'failed' ? 'bad' : ''}`}>
            {progress.phase === 'failed' ? `VM failed to start: ${progress.message}` : progress.message}
          </div>
        </>
      )}
      {progress?.phase === 'ready' && <div className="status">{progress.message}</div>}
      <div className="term-wrap">
        <div ref={termEl} className={`term ${role ?? ''}`} />
      </div>
    </main>
  );
}

function NewRoomForm({ compact = false }: { compact?: boolean }) {
  return (
    <form method="post" action="/rooms/new" className="row">
      {!compact && <input name="name" placeholder="Room name" maxLength={80} />}
      <button type={compact ? 'submit' : 'submit'} className={compact ? 'secondary' : ''}>
        New room
      </button>
    </form>
  );
}
