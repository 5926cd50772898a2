'use client';

import { useRef } from 'react';
import type { ScreenFrame } from '../../lib/shared/protocol';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import type { EngineChoice } from '../../lib/browser/vm/createEngine';
import { FramePump } from '../../lib/browser/client/ScreenCapture';
import { attachScreenInput } from '../../lib/browser/client/ScreenInput';
import { connectRoom } from '../../lib/browser/client/roomConnection';
import { DEFAULT_CHEERPX_ALPINE_DISK } from '../../lib/browser/vm/CheerpXAlpine';
import { INITIAL_SCREEN, ScreenSession } from '../../lib/browser/room/ScreenSession';
import { engineFromQuery } from '../../lib/browser/room/hostEngine';
import { fetchGuestManifest } from '../../lib/browser/vm/guestManifestFetch';
import { TailscaleControl } from './TailscaleControl';
import TopBar from './TopBar';
import BootStatus from './room/BootStatus';
import RoomNotices from './room/RoomNotices';
import ShareLink from './room/ShareLink';
import { anonymousName, useRoomCollab } from './room/useRoomCollab';
import { useSession } from './room/useSession';

/** Draws the newest frame on a canvas; an older one still decoding is dropped. */
function frameDrawer(canvas: () => HTMLCanvasElement | null) {
  let decoding: HTMLImageElement | null = null;
  let shown = 0;
  return (f: ScreenFrame) => {
    const img = new Image();
    decoding = img;
    img.onload = () => {
      const c = canvas();
      if (decoding !== img || !c) return;
      if (c.width !== f.width) c.width = f.width;
      if (c.height !== f.height) c.height = f.height;
      c.getContext('2d')?.drawImage(img, 0, 0, f.width, f.height);
      c.dataset.frames = String(++shown);
    };
    img.src = f.data;
  };
}

async function startScreenRoom(roomId: string, hostScreen: () => HTMLDivElement | null, guestCanvas: () => HTMLCanvasElement | null): Promise<ScreenSession> {
  const { io } = await import('socket.io-client');
  const params = new URLSearchParams(window.location.search);
  return new ScreenSession({
    connect: (h) => connectRoom(io, { roomId, wantHost: !params.has('watch'), name: anonymousName(), ...h }),
    engine: engineFromQuery(params),
    createVm: async (choose, notice) => {
      const manifest = await fetchGuestManifest<GuestManifest & { engineChoice: EngineChoice }>(`/vm/manifest.json?room=${encodeURIComponent(roomId)}&guest=bundled`);
      const container = hostScreen();
      if (!container) throw new Error('the page closed');
      const { createScreenVm } = await import('../../lib/browser/vm/createScreenVm');
      const v = await createScreenVm({
        choice: choose(manifest),
        manifest,
        container,
        cheerpx: { disk: DEFAULT_CHEERPX_ALPINE_DISK, overlayKey: `tandem:${roomId}:alpine:${DEFAULT_CHEERPX_ALPINE_DISK}` },
        notice,
      });
      // For tests and debugging: the VGA text screen as lines (v86 only).
      (window as unknown as { __tandemScreenText?: () => string[] }).__tandemScreenText = () => (v as { textScreen?: () => string[] }).textScreen?.() ?? [];
      return v;
    },
    makePump: (canvas, send) => new FramePump(canvas, send),
    attachInput: attachScreenInput,
    guestCanvas,
    drawFrame: frameDrawer(guestCanvas),
  });
}

/**
 * A room whose VM is shown as a screen (/alpine): the host runs the VM (CheerpX's Alpine with its
 * KMS display, or v86's VGA screen) and streams frames of it; guests see the frames and send
 * keyboard and mouse to the host's VM, unless the server says they may not type.
 */
export default function ScreenRoom({ roomId }: { roomId: string }) {
  const hostScreen = useRef<HTMLDivElement>(null);
  const guestCanvas = useRef<HTMLCanvasElement>(null);
  const [, snap] = useSession(roomId, () => startScreenRoom(roomId, () => hostScreen.current, () => guestCanvas.current), INITIAL_SCREEN);
  const { state, conn, fatal, boot, notice, engineNotice, vm, readOnly } = snap;

  const seat = state?.seat;
  const me = state?.me;
  const { people } = useRoomCollab(roomId, me ? { memberId: me.memberId, name: me.name } : null, !!seat);
  const progress = seat === 'host' ? boot : state?.hostStatus;
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
    <main className="room screen-room" data-seat={seat ?? ''} data-conn={conn} data-phase={phase} data-engine={vm?.name ?? ''}>
      <TopBar
        label={`screen room ${roomId}`}
        end={
          <>
            {seat === 'host' && <TailscaleControl control={vm?.tailscale ?? null} engine={vm?.name ?? null} />}
            <ShareLink url={shareUrl} size={30} />
          </>
        }
      >
        {seat && <span className={`badge ${seat}`}>{seat === 'host' ? 'hosting the VM' : 'guest'}</span>}
        {seat === 'guest' && readOnly && <span className="badge">view only</span>}
        <span className={`badge ${conn === 'connected' ? '' : 'bad'}`}>{conn}</span>
        {state && <span className="badge">{state.guests} {state.guests === 1 ? 'guest' : 'guests'}</span>}
        <span className="people" aria-label="People in this room">
          {people.map((p) => (
            <span key={p.clientId} className="person" title={p.self ? `${p.name} (you)` : p.name} style={{ borderColor: p.color }}>
              {p.name}
            </span>
          ))}
        </span>
      </TopBar>
      <RoomNotices fatal={fatal} hostAway={!!state && !state.hostConnected && seat === 'guest'} notice={notice} engineNotice={seat === 'host' ? engineNotice : null} />
      <BootStatus
        progress={progress}
        ready={seat === 'host' ? ' — click the screen to type into the VM' : readOnly ? '' : ' — click the screen to type into the host’s VM'}
      />
      <div className="screen-wrap">
        <div ref={hostScreen} className="screen-host" hidden={seat !== 'host'} aria-label="VM screen" />
        <canvas ref={guestCanvas} className="screen-guest" hidden={seat !== 'guest'} width={720} height={400} aria-label="Host’s VM screen" />
      </div>
    </main>
  );
}
