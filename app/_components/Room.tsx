'use client';

import { useEffect, useRef, useState } from 'react';
import { TabView } from '../../lib/browser/client/TabView';
import { hostTokenFromHash } from '../../lib/browser/client/pageIdentity';
import { connectRoom } from '../../lib/browser/client/roomConnection';
import { INITIAL_ROOM, RoomSession } from '../../lib/browser/room/RoomSession';
import { hostEngineFactory } from '../../lib/browser/room/hostEngine';
import { finalStateHandoff } from '../../lib/browser/room/finalState';
import AccessDenied from './room/AccessDenied';
import BootStatus from './room/BootStatus';
import RoomNotices from './room/RoomNotices';
import RoomSidebar from './room/RoomSidebar';
import RoomTopBar from './room/RoomTopBar';
import TabBar from './room/TabBar';
import { NewRoomForm, ResetVmButton } from './room/VmActions';
import TermTools from './room/TermTools';
import { useTermFit } from './room/useTermFit';
import { useMediaQuery, useViewPrefs } from './room/useViewPrefs';
import { anonymousName, useRoomCollab } from './room/useRoomCollab';
import { useSession } from './room/useSession';

/** Starts a room's session once the page's scripts (xterm.js, Socket.IO) are loaded. */
async function startRoom(roomId: string, container: HTMLElement | null): Promise<RoomSession | null> {
  const [{ Terminal }, { FitAddon }, { io }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit'), import('socket.io-client')]);
  if (!container) return null;
  const hostToken = hostTokenFromHash();
  const params = new URLSearchParams(window.location.search);
  return new RoomSession({
    // `?watch` joins as a guest even when nobody hosts (e.g. to watch the headless host).
    connect: (h) => connectRoom(io, { roomId, wantHost: !params.has('watch'), hostToken, name: anonymousName(), ...h }),
    makeView: (tab, h) => new TabView({ Terminal, FitAddon }, container, tab, h),
    createEngine: hostEngineFactory({ roomId, params, hostToken }),
    resetDisks: async () => (await import('../../lib/browser/vm/resetVm')).resetRoomDisks(roomId),
    resizeTarget: window,
    onPageHidden: (fn) => {
      // 'hidden' comes when the tab is switched away, closed or navigated from (before pagehide):
      // often the last moment a phone's page runs at all.
      const onHide = () => document.visibilityState === 'hidden' && fn();
      document.addEventListener('visibilitychange', onHide);
      return () => document.removeEventListener('visibilitychange', onHide);
    },
    // The server's headless host yields by saving first (host:yield); it never closes as a person's tab does.
    finalState: hostToken ? undefined : finalStateHandoff(roomId),
  });
}

/** A room's page: the shared terminal(s), the top bar, and the side panel. */
export default function Room({ roomId }: { roomId: string }) {
  const termEl = useRef<HTMLDivElement>(null);
  const termWrap = useRef<HTMLDivElement>(null);
  const [session, snap] = useSession(roomId, () => startRoom(roomId, termEl.current), INITIAL_ROOM);
  const { state, conn, fatal, lostAccess, boot, notice, engineNotice, offerReset, activeTab } = snap;

  const seat = state?.seat;
  const me = state?.me;
  const denied = fatal?.code === 'UNAUTHORIZED' || fatal?.code === 'FORBIDDEN';
  const collab = useRoomCollab(roomId, me ? { memberId: me.memberId, name: me.name } : null, !!seat && !denied);
  // Rooms without accounts (and servers before them) send no `me`: everyone types, as before.
  // In `single` mode only the keyboard's holder types (the server refuses the others' keystrokes).
  const canType = me ? me.canType && (collab.control.mode === 'all' || collab.control.holder === me.memberId) : true;
  useEffect(() => session?.setCanType(canType), [session, canType, state]);
  useEffect(() => collab.watching(activeTab), [collab.watching, activeTab]);
  const [prefs, setPrefs] = useViewPrefs();
  const shownPx = useTermFit(session, termWrap, termEl, seat, prefs);
  // Under ~1000 px the side panel is a drawer over the terminal, closed until asked for.
  const narrow = useMediaQuery('(max-width: 999px)');
  const [drawerOpen, setDrawerOpen] = useState(false);
  const drawer = narrow ? drawerOpen : undefined;
  const progress = seat === 'host' ? boot : state?.hostStatus;
  const phase = progress?.phase ?? (state && !state.hostConnected ? 'waiting' : 'loading');
  const reset = () => void session?.reset();

  if (fatal && denied) return <AccessDenied code={fatal.code as 'UNAUTHORIZED' | 'FORBIDDEN'} roomId={roomId} lost={lostAccess} message={fatal.message} />;

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
    <main className="room" data-seat={seat ?? ''} data-conn={conn} data-phase={phase} data-member-role={me?.role ?? ''} data-can-type={canType ? 'true' : 'false'}>
      <RoomTopBar roomId={roomId} snap={snap} session={session} canType={canType} prefs={prefs} setPrefs={setPrefs} drawer={drawer} setDrawer={setDrawerOpen} />
      <RoomNotices
        fatal={fatal}
        hostAway={!!state && !state.hostConnected && seat === 'guest'}
        notice={notice}
        engineNotice={seat === 'host' ? engineNotice : null}
        engineAction={offerReset && <ResetVmButton onReset={reset} />}
      />
      <BootStatus progress={progress} onFailed={seat === 'host' && <ResetVmButton onReset={reset} />} />
      <TabBar tabs={state?.tabs} active={activeTab} host={seat === 'host'} session={session} />
      <div className="room-body">
        <div className="term-col">
          {seat && <TermTools guest={seat === 'guest'} canType={canType} prefs={prefs} setPrefs={setPrefs} shownPx={shownPx} />}
          <div
            ref={termWrap}
            className={`term-wrap ${canType ? '' : 'readonly'}`}
            // "Typing" means keys and pastes, not the terminal's own replies (cursor reports) that also arrive as input.
            onKeyDown={canType ? collab.typed : undefined}
            onPaste={canType ? collab.typed : undefined}
          >
            <div ref={termEl} className={`terms ${seat ?? ''}`} />
          </div>
        </div>
        {seat && (
          <RoomSidebar
            roomId={roomId}
            me={me}
            collab={collab}
            tabs={state?.tabs ?? []}
            emit={(e, ...a) => session?.emit(e, ...a)}
            drawer={drawer}
            onClose={() => {
              setDrawerOpen(false);
              document.getElementById('panel-toggle')?.focus();
            }}
          />
        )}
      </div>
    </main>
  );
}
