'use client';

import { useEffect, useState } from 'react';
import type { TabInfo } from '../../../lib/shared/protocol';
import type { RoomMe } from '../../../lib/browser/client/accountsApi';
import ControlPanel, { presentName, type EmitControl } from './ControlPanel';
import InvitesPanel from './InvitesPanel';
import NotesPane from './NotesPane';
import PeoplePanel from './PeoplePanel';
import NetworkPanel from './NetworkPanel';
import type { useRoomCollab } from './useRoomCollab';

const OPEN_KEY = 'tandem:sidebar';

/** The room's side panel beside the terminal: people and roles, keyboard control, invites, the network audit, notes. */
export default function RoomSidebar({
  roomId,
  me,
  collab,
  tabs,
  emit,
}: {
  roomId: string;
  me: RoomMe | undefined;
  collab: ReturnType<typeof useRoomCollab>;
  tabs: TabInfo[];
  emit: EmitControl;
}) {
  const [open, setOpen] = useState(true);
  useEffect(() => setOpen(localStorage.getItem(OPEN_KEY) !== 'closed'), []);
  const toggle = () => {
    localStorage.setItem(OPEN_KEY, open ? 'closed' : 'open');
    setOpen(!open);
  };
  const tabTitle = (id: string) => tabs.find((t) => t.id === id)?.title ?? 'Terminal';
  const nameOf = presentName(collab.people, () => undefined);
  const member = !!me?.role;

  if (!open)
    return (
      <aside className="sidebar closed">
        <button className="secondary small" onClick={toggle} aria-label="Show side panel" title="People, notes, invites">
          ◀
        </button>
      </aside>
    );
  return (
    <aside className="sidebar" aria-label="Room panel">
      <div className="sidebar-head">
        <button className="secondary small" onClick={toggle} aria-label="Hide side panel">
          ▶
        </button>
      </div>
      <PeoplePanel roomId={roomId} me={me} people={collab.people} control={collab.control} tabTitle={tabTitle} onGrant={(memberId) => emit('control:grant', { memberId })} />
      {member && me && <ControlPanel me={me} control={collab.control} nameOf={nameOf} emit={emit} />}
      {me?.canManage && <InvitesPanel roomId={roomId} myRole={me.role} />}
      {me?.role === 'owner' && <NetworkPanel roomId={roomId} />}
      <NotesPane doc={collab.doc} readOnly={me ? !me.canType && me.role === 'viewer' : false} onEdit={collab.typed} />
    </aside>
  );
}
