'use client';

import type { RoomSession, RoomSnapshot } from '../../../lib/browser/room/RoomSession';
import AccountMenu from '../AccountMenu';
import { TailscaleControl } from '../TailscaleControl';
import TopBar from '../TopBar';
import RoleBadge from './RoleBadge';
import ShareLink from './ShareLink';
import { LeaveRoomButton, NewRoomForm, ResetVmButton, SaveVmButton } from './VmActions';
import type { useRoomCollab } from './useRoomCollab';

/** The terminal room's top bar: where I am and as what, the connection, sharing, and the room's actions. */
export default function RoomTopBar({
  roomId,
  snap,
  session,
  canType,
  people,
}: {
  roomId: string;
  snap: RoomSnapshot;
  session: RoomSession | null;
  canType: boolean;
  people: ReturnType<typeof useRoomCollab>['people'];
}) {
  const { state, conn, commands, activeTab, mainVm } = snap;
  const role = state?.role;
  const me = state?.me;
  const shareUrl = typeof window === 'undefined' ? '' : `${window.location.origin}/r/${roomId}`;
  return (
    <TopBar
      label={`room ${roomId}`}
      end={
        <>
          {role === 'host' && mainVm && <TailscaleControl control={mainVm.tailscale} engine={mainVm.name} />}
          <span className="row" aria-label="Commands">
            <button className="secondary" title="Previous command" aria-label="Previous command" disabled={!commands[activeTab]} onClick={() => session?.jump(-1)}>
              ↑
            </button>
            <button className="secondary" title="Next command" aria-label="Next command" disabled={!commands[activeTab]} onClick={() => session?.jump(1)}>
              ↓
            </button>
          </span>
          <ShareLink url={shareUrl} />
          {role === 'host' && mainVm?.name === 'v86' && <SaveVmButton onSave={() => session?.save() ?? Promise.resolve()} />}
          {role === 'host' && <ResetVmButton onReset={() => void session?.reset()} />}
          <NewRoomForm compact />
          {me && (me.memberId.startsWith('g:') || (me.memberId.startsWith('u:') && me.role !== 'owner')) && (
            <LeaveRoomButton roomId={roomId} guest={me.memberId.startsWith('g:')} onProblem={(t) => session?.flash(t)} />
          )}
          <AccountMenu />
        </>
      }
    >
      {role && <span className={`badge ${role}`}>{role === 'host' ? 'hosting the VM' : 'guest'}</span>}
      <RoleBadge me={me} canType={canType} />
      {state?.hostHeadless && role === 'guest' && <span className="badge">VM runs on the server’s headless host</span>}
      <span className={`badge ${conn === 'connected' ? '' : 'bad'}`}>{conn}</span>
      {state && <span className="badge">{state.guests} {state.guests === 1 ? 'guest' : 'guests'}</span>}
      <span className="people" aria-label="People in this room">
        {people.map((p) => (
          <span key={p.clientId} className={`person ${p.typing ? 'is-typing' : ''}`} title={p.typing ? `${p.name} is typing` : p.name} style={{ borderColor: p.color }}>
            {p.name}
            {p.typing && <span className="typing-dots" aria-label="typing">…</span>}
          </span>
        ))}
      </span>
    </TopBar>
  );
}
