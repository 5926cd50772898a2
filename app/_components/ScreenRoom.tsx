'use client';

import { useEffect, useRef, useState } from 'react';
import type { Socket } from 'socket.io-client';
import {
  DEFAULT_TAB,
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ProtocolErrorPayload,
  type Role,
  type RoomState,
  type ScreenFrame,
  type ServerToClientEvents,
  FATAL_CONNECT_CODES,
} from '../../lib/protocol';
import type { BootProgress } from '../../lib/vm/Engine';
import type { GuestManifest } from '../../lib/vm/GuestManifest';
import type { EngineChoice } from '../../lib/vm/createEngine';
import type { ScreenVm, TailscaleControl as TsControl } from '../../lib/vm/ScreenVm';
import { FramePump } from '../../lib/client/ScreenCapture';
import { attachScreenInput } from '../../lib/client/ScreenInput';
import { DEFAULT_CHEERPX_ALPINE_DISK } from '../../lib/vm/CheerpXAlpine';
import { TailscaleControl } from './TailscaleControl';
import { usePresence } from './usePresence';
import { clientId } from '../../lib/client/pageIdentity';

type Conn = 'connecting' | 'connected' | 'reconnecting';
const STATUS_EVERY_MS = 250;

/**
 * A room whose VM is shown as a screen (/alpine): the host runs the VM (CheerpX's Alpine with its
 * KMS display, or v86's VGA screen) and streams frames of it; guests see the frames and send
 * keyboard and mouse to the host's VM, unless the server says they may not type.
 */
export default function ScreenRoom({ roomId }: { roomId: string }) {
  const hostScreen = useRef<HTMLDivElement>(null);
  const guestCanvas = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<RoomState | null>(null);
  const [conn, setConn] = useState<Conn>('connecting');
  const [fatal, setFatal] = useState<ProtocolErrorPayload | null>(null);
  const [boot, setBoot] = useState<BootProgress | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [engineNotice, setEngineNotice] = useState<string | null>(null);
  const [vmInfo, setVmInfo] = useState<{ name: ScreenVm['name']; tailscale: TsControl | null } | null>(null);
  const [readOnly, setReadOnly] = useState(false);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let disposed = false;
    let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
    let vm: ScreenVm | null = null;
    let pump: FramePump | null = null;
    let detachInput: (() => void) | null = null;
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    const flash = (text: string) => {
      setNotice(text);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => setNotice(null), 5000);
    };
    const stopVm = async () => {
      pump?.stop();
      pump = null;
      detachInput?.();
      detachInput = null;
      const v = vm;
      vm = null;
      setVmInfo(null);
      setBoot(null);
      await v?.destroy();
    };

    (async () => {
      const { io } = await import('socket.io-client');
      if (disposed) return;
      const params = new URLSearchParams(window.location.search);
      const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({
        path: '/socket.io',
        transports: ['websocket'],
        auth: { v: PROTOCOL_VERSION, room: roomId, clientId: clientId(), wantHost: !params.has('watch') },
      });
      socket = s;
      let role: Role | null = null;
      let lastStatus: BootProgress | null = null;
      let lastStatusSent = 0;
      let starting = false;
      let watchers = 0;
      /** My role may type (the server's `me`; open rooms: everyone). */
      let canType = true;
      /** The server refused this guest's input (e.g. another member holds the keyboard): stop
       * sending until the room's state changes. */
      let refused = false;
      const sendStatus = (p: BootProgress, force = false) => {
        lastStatus = p;
        const now = Date.now();
        if (!force && p.phase === 'booting' && now - lastStatusSent < STATUS_EVERY_MS) return;
        lastStatusSent = now;
        s.emit('host:status', { tab: DEFAULT_TAB, ...p });
      };
      const report = (p: BootProgress) => {
        setBoot(p);
        sendStatus(p, p.phase !== 'booting');
      };

      const startVm = async () => {
        if (vm || starting || !hostScreen.current) return;
        starting = true;
        try {
          const manifest: GuestManifest & { engineChoice: EngineChoice } = await fetch(`/vm/manifest.json?room=${encodeURIComponent(roomId)}&guest=bundled`).then((r) => r.json());
          if (disposed || role !== 'host') return;
          const choice = (['auto', 'cheerpx', 'v86'] as const).find((c) => c === params.get('engine')) ?? manifest.engineChoice;
          const { createScreenVm } = await import('../../lib/vm/createScreenVm');
          const v = await createScreenVm({
            choice,
            manifest,
            container: hostScreen.current!,
            cheerpx: { disk: DEFAULT_CHEERPX_ALPINE_DISK, overlayKey: `tandem:${roomId}:alpine:${DEFAULT_CHEERPX_ALPINE_DISK}` },
            notice: setEngineNotice,
          });
          if (disposed || role !== 'host') return void v.destroy();
          vm = v;
          setVmInfo({ name: v.name, tailscale: v.tailscale });
          // CheerpX reads its own canvas's events; v86's keyboard and mouse we feed ourselves.
          if (v.name === 'v86') detachInput = attachScreenInput(v.canvas, (evs) => evs.forEach((e) => v.input(e)));
          else v.canvas.tabIndex = 0;
          pump = new FramePump(v.canvas, (f) => {
            if (s.connected) s.emit('screen:frame', f);
          });
          pump.setActive(watchers > 0);
          // For tests and debugging: the VGA text screen as lines (v86 only).
          (window as unknown as { __tandemScreenText?: () => string[] }).__tandemScreenText = () =>
            (v as { textScreen?: () => string[] }).textScreen?.() ?? [];
          await v.boot(report);
          v.canvas.focus();
        } catch (err) {
          report({ phase: 'failed', progress: 1, message: err instanceof Error ? err.message : String(err) });
        } finally {
          starting = false;
        }
      };

      // Guests: the newest frame wins; an older one still decoding is dropped.
      let decoding: HTMLImageElement | null = null;
      let framesShown = 0;
      const show = (f: ScreenFrame) => {
        const img = new Image();
        decoding = img;
        img.onload = () => {
          const c = guestCanvas.current;
          if (decoding !== img || !c) return;
          if (c.width !== f.width) c.width = f.width;
          if (c.height !== f.height) c.height = f.height;
          c.getContext('2d')?.drawImage(img, 0, 0, f.width, f.height);
          c.dataset.frames = String(++framesShown);
        };
        img.src = f.data;
      };

      /** The first state after a (re)connect: the host then re-sends its screen and status. */
      let freshConnection = false;
      s.on('connect', () => {
        freshConnection = true;
        setConn('connected');
        setFatal(null);
      });
      s.on('disconnect', () => setConn('reconnecting'));
      s.on('connect_error', (err) => {
        const data = (err as Error & { data?: ProtocolErrorPayload }).data;
        if (data && FATAL_CONNECT_CODES.has(data.code)) {
          setFatal(data);
          s.disconnect();
        } else setConn('reconnecting');
      });
      s.on('room:state', (st) => {
        setState(st);
        const was = role;
        role = st.role;
        watchers = st.guests;
        if (st.me) canType = st.me.canType;
        refused = false;
        setReadOnly(!canType);
        const fresh = freshConnection;
        freshConnection = false;
        if (was === role) {
          if (role === 'host') {
            pump?.setActive(watchers > 0);
            // Same seat after a reconnect: the server needs the screen and status again. Only then:
            // every status is answered with a state, so re-sending on each state would never stop.
            if (fresh) {
              if (watchers > 0) pump?.resend();
              if (lastStatus) sendStatus(lastStatus, true);
            }
          }
          return;
        }
        if (role === 'host') {
          detachInput?.();
          detachInput = null;
          void startVm();
        } else {
          if (was === 'host') {
            flash('Another browser is hosting this room now; you are watching.');
            void stopVm();
          }
          const c = guestCanvas.current;
          if (c && !detachInput) detachInput = attachScreenInput(c, (events) => canType && !refused && s.emit('screen:input', { events }));
        }
      });
      s.on('screen:frame', (f) => role === 'guest' && show(f));
      s.on('screen:input', (m) => {
        if (role === 'host' && vm) for (const e of m.events) vm.input(e);
      });
      s.on('room:error', (e) => {
        if (e.event === 'screen:input' && e.code === 'FORBIDDEN') {
          refused = true;
          setReadOnly(true);
        }
        else if (e.event === 'screen:input' && e.code === 'NO_HOST') return; // the banner says so already
        else flash(`${e.code}: ${e.message}`);
      });
    })().catch((err) => setFatal({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }));

    return () => {
      disposed = true;
      clearTimeout(noticeTimer);
      socket?.disconnect();
      void stopVm();
    };
  }, [roomId]);

  const role = state?.role;
  const people = usePresence(roomId, role);
  const progress = role === 'host' ? boot : state?.hostStatus;
  const phase = progress?.phase ?? (state && !state.hostConnected ? 'waiting' : 'loading');
  const shareUrl = typeof window === 'undefined' ? '' : `${window.location.origin}${window.location.pathname}${window.location.search}`;

  if (fatal && ['ROOM_NOT_FOUND', 'BAD_ROOM_ID'].includes(fatal.code)) {
    return (
      <main className="center" data-error={fatal.code}>
        <h1>Room not found</h1>
        <p>There is no room called “{roomId}”. Check the link.</p>
      </main>
    );
  }

  return (
    <main className="room screen-room" data-role={role ?? ''} data-conn={conn} data-phase={phase} data-engine={vmInfo?.name ?? ''}>
      <header className="topbar">
        <span className="brand">
          <a href="/">Tandem</a>
        </span>
        <span className="badge">screen room {roomId}</span>
        {role && <span className={`badge ${role}`}>{role === 'host' ? 'hosting the VM' : 'guest'}</span>}
        {role === 'guest' && readOnly && <span className="badge">view only</span>}
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
        {role === 'host' && <TailscaleControl control={vmInfo?.tailscale ?? null} engine={vmInfo?.name ?? null} />}
        <span className="row">
          <input readOnly value={shareUrl} aria-label="Share link" size={30} onFocus={(e) => e.currentTarget.select()} />
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
      {progress?.phase === 'ready' && (
        <div className="status">
          {progress.message}
          {role === 'host' ? ' — click the screen to type into the VM' : readOnly ? '' : ' — click the screen to type into the host’s VM'}
        </div>
      )}
      <div className="screen-wrap">
        <div ref={hostScreen} className="screen-host" hidden={role !== 'host'} aria-label="VM screen" />
        <canvas ref={guestCanvas} className="screen-guest" hidden={role !== 'guest'} width={720} height={400} aria-label="Host’s VM screen" />
      </div>
    </main>
  );
}
