'use client';

import type { RoomSession, RoomSnapshot } from '../../../lib/browser/room/RoomSession';
import type { ViewPrefs } from '../../../lib/browser/room/viewPrefs';
import AccountMenu from '../AccountMenu';
import { TailscaleControl } from '../TailscaleControl';
import TopBar from '../TopBar';
import { InternetBadge } from './NetworkPanel';
import RoleBadge from './RoleBadge';
import RoomMenu, { MenuSection } from './RoomMenu';
import { PANEL_ID } from './RoomSidebar';
import HandoverControls from './HandoverControls';
import ShareLink from './ShareLink';
import { LeaveRoomButton, NewRoomForm, ResetVmButton, SaveVmButton } from './VmActions';

/**
 * The terminal room's top bar: the essentials (room, my seat and role, connection, share), the
 * side panel's drawer on narrow windows, and one menu for the rest.
 */
export default function RoomTopBar({
  roomId,
  snap,
  session,
  canType,
  prefs,
  setPrefs,
  drawer,
  setDrawer,
}: {
  roomId: string;
  snap: RoomSnapshot;
  session: RoomSession | null;
  canType: boolean;
  prefs: ViewPrefs;
  setPrefs(p: Partial<ViewPrefs>): void;
  /** Narrow window: whether the side panel's drawer is open; undefined on wide windows. */
  drawer: boolean | undefined;
  setDrawer(open: boolean): void;
}) {
  const { state, conn, commands, activeTab, mainVm } = snap;
  const seat = state?.seat;
  const me = state?.me;
  const host = seat === 'host';
  const shareUrl = typeof window === 'undefined' ? '' : `${window.location.origin}/r/${roomId}`;
  const mayLeave = !!me && (me.memberId.startsWith('g:') || (me.memberId.startsWith('u:') && me.role !== 'owner'));
  return (
    <TopBar
      label={`room ${roomId}`}
      end={
        <>
          <HandoverControls state={state} watching={typeof window !== 'undefined' && new URLSearchParams(window.location.search).has('watch')} onTake={() => session?.take()} onGive={(peer) => session?.give(peer) ?? Promise.resolve()} />
          <ShareLink url={shareUrl} />
          {seat && drawer !== undefined && (
            <button id="panel-toggle" className="secondary" aria-expanded={drawer} aria-controls={PANEL_ID} onClick={() => setDrawer(!drawer)}>
              People &amp; notes
            </button>
          )}
          <RoomMenu>
            <MenuSection title="Terminal">
              <button className="secondary" disabled={!commands[activeTab]} onClick={() => session?.jump(-1)}>
                Previous command
              </button>
              <button className="secondary" disabled={!commands[activeTab]} onClick={() => session?.jump(1)}>
                Next command
              </button>
              <label className="check">
                <input type="checkbox" checked={prefs.screenReader} onChange={(e) => setPrefs({ screenReader: e.target.checked })} /> Screen reader mode
              </label>
              {/* In the menu, not the bar: the bar's room is for what changes (seat, connection, guests, Internet). */}
              <a className="button secondary" href={`/r/${encodeURIComponent(roomId)}/replay`} target="_blank" rel="noopener" title="Play back this room's recorded terminals">
                Replay
              </a>
            </MenuSection>
            {host && (
              <MenuSection title="This VM (host)">
                {mainVm?.name === 'v86' && <SaveVmButton onSave={() => session?.save() ?? Promise.resolve()} />}
                <ResetVmButton onReset={() => void session?.reset()} />
                {/* Tailscale runs only inside CheerpX: on v86 it is not offered at all. */}
                {mainVm?.tailscale && <TailscaleControl control={mainVm.tailscale} engine={mainVm.name} />}
              </MenuSection>
            )}
            <MenuSection title="Rooms">
              <NewRoomForm compact />
              {mayLeave && <LeaveRoomButton roomId={roomId} guest={me.memberId.startsWith('g:')} onProblem={(t) => session?.flash(t)} />}
            </MenuSection>
            <MenuSection title="Account">
              <AccountMenu />
            </MenuSection>
          </RoomMenu>
        </>
      }
    >
      {seat && <span className={`badge ${seat}`}>{host ? 'hosting the VM' : 'guest'}</span>}
      <RoleBadge me={me} canType={canType} />
      {state?.hostHeadless && seat === 'guest' && <span className="badge wide-only">VM runs on the server’s headless host</span>}
      <span className={`badge ${conn === 'connected' ? '' : 'bad'}`} aria-label={`Connection: ${conn}`}>
        {conn}
      </span>
      {state && <span className="badge">{state.guests} {state.guests === 1 ? 'guest' : 'guests'}</span>}
      {seat && <InternetBadge roomId={roomId} isOwner={me?.role === 'owner'} />}
    </TopBar>
  );
}
