'use client';

import { useEffect, useRef, useState } from 'react';
import { type ProtocolErrorPayload, type Seat, type RoomState, type ScreenFrame } from '../../lib/shared/protocol';
import type { BootProgress } from '../../lib/browser/vm/Engine';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import type { EngineChoice } from '../../lib/browser/vm/createEngine';
import type { ScreenVm, TailscaleControl as TsControl } from '../../lib/browser/vm/ScreenVm';
import { FramePump } from '../../lib/browser/client/ScreenCapture';
import { attachScreenInput } from '../../lib/browser/client/ScreenInput';
import { DEFAULT_CHEERPX_ALPINE_DISK } from '../../lib/browser/vm/CheerpXAlpine';
import { TailscaleControl } from './TailscaleControl';
import BootStatus from './room/BootStatus';
import RoomNotices from './room/RoomNotices';
import ShareLink from './room/ShareLink';
import { anonymousName, useRoomCollab } from './room/useRoomCollab';
import { connectRoom, StatusReporter, type Conn, type RoomSocket } from '../../lib/browser/client/roomConnection';


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

  useEffect(() => {
    let disposed = false;
    let socket: RoomSocket | null = null;
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
      const conn = connectRoom(io, { roomId, wantHost: !params.has('watch'), name: anonymousName(), onConn: setConn, onFatal: (err) => setFatal(err) });
      const s = conn.socket;
      socket = s;
      let role: Seat | null = null;
      let starting = false;
      let watchers = 0;
      /** My role may type (the server's `me`; open rooms: everyone). */
      let canType = true;
      /** The server refused this guest's input (e.g. another member holds the keyboard): stop
       * sending until the room's state changes. */
      let refused = false;
      const status = new StatusReporter((st) => s.emit('host:status', st));
      const report = (p: BootProgress) => {
        setBoot(p);
        status.send(p, p.phase !== 'booting');
      };

      const startVm = async () => {
        if (vm || starting || !hostScreen.current) return;
        starting = true;
        try {
          const manifest: GuestManifest & { engineChoice: EngineChoice } = await fetch(`/vm/manifest.json?room=${encodeURIComponent(roomId)}&guest=bundled`).then((r) => r.json());
          if (disposed || role !== 'host') return;
          const choice = (['auto', 'cheerpx', 'v86'] as const).find((c) => c === params.get('engine')) ?? manifest.engineChoice;
          const { createScreenVm } = await import('../../lib/browser/vm/createScreenVm');
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

      s.on('room:state', (st) => {
        // `me` comes only in the states sent to me alone: keep the last one.
        setState((prev) => ({ ...st, me: st.me ?? prev?.me }));
        const was = role;
        role = st.role;
        watchers = st.guests;
        if (st.me) canType = st.me.canType;
        refused = false;
        setReadOnly(!canType);
        const fresh = conn.takeFresh();
        if (was === role) {
          if (role === 'host') {
            pump?.setActive(watchers > 0);
            // Same seat after a reconnect: the server needs the screen and status again.
            if (fresh) {
              if (watchers > 0) pump?.resend();
              status.resend();
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
  const me = state?.me;
  const { people } = useRoomCollab(roomId, me ? { memberId: me.memberId, name: me.name } : null, !!role);
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
            <span key={p.clientId} className="person" title={p.self ? `${p.name} (you)` : p.name} style={{ borderColor: p.color }}>
              {p.name}
            </span>
          ))}
        </span>
        <span className="spacer" />
        {role === 'host' && <TailscaleControl control={vmInfo?.tailscale ?? null} engine={vmInfo?.name ?? null} />}
        <ShareLink url={shareUrl} size={30} />
      </header>
      <RoomNotices fatal={fatal} hostAway={!!state && !state.hostConnected && role === 'guest'} notice={notice} engineNotice={role === 'host' ? engineNotice : null} />
      <BootStatus
        progress={progress}
        ready={role === 'host' ? ' — click the screen to type into the VM' : readOnly ? '' : ' — click the screen to type into the host’s VM'}
      />
      <div className="screen-wrap">
        <div ref={hostScreen} className="screen-host" hidden={role !== 'host'} aria-label="VM screen" />
        <canvas ref={guestCanvas} className="screen-guest" hidden={role !== 'guest'} width={720} height={400} aria-label="Host’s VM screen" />
      </div>
    </main>
  );
}
