'use client';

import { useEffect, useRef, useState } from 'react';
import type { TabInfo } from '../../../lib/shared/protocol';
import type { RoomMe } from '../../../lib/browser/client/accountsApi';
import ControlPanel, { presentName, type EmitControl } from './ControlPanel';
import InvitesPanel from './InvitesPanel';
import NotesPane from './NotesPane';
import PeoplePanel from './PeoplePanel';
import type { useRoomCollab } from './useRoomCollab';

const OPEN_KEY = 'tandem:sidebar';
export const PANEL_ID = 'room-panel';

/**
 * The room's side panel beside the terminal: people and roles, keyboard control, invites, notes.
 * On a wide window it sits beside the terminal (hidden on request, remembered); on a narrow one
 * (`drawer`) it slides over the terminal when the top bar's "People & notes" opens it.
 */
export default function RoomSidebar({
  roomId,
  me,
  collab,
  tabs,
  emit,
  drawer,
  onClose,
}: {
  roomId: string;
  me: RoomMe | undefined;
  collab: ReturnType<typeof useRoomCollab>;
  tabs: TabInfo[];
  emit: EmitControl;
  /** Narrow window: open (true) or closed (false) drawer; undefined: beside the terminal. */
  drawer?: boolean;
  onClose(): void;
}) {
  const [open, setOpen] = useState(true);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => setOpen(localStorage.getItem(OPEN_KEY) !== 'closed'), []);
  useEffect(() => {
    if (drawer) closeRef.current?.focus();
  }, [drawer]);
  const toggle = () => {
    localStorage.setItem(OPEN_KEY, open ? 'closed' : 'open');
    setOpen(!open);
  };
  const tabTitle = (id: string) => tabs.find((t) => t.id === id)?.title ?? 'Terminal';
  const nameOf = presentName(collab.people, () => undefined);
  const member = !!me?.role;
  const isDrawer = drawer !== undefined;

  if (!isDrawer && !open)
    return (
      <aside className="sidebar closed">
        <button className="secondary small" onClick={toggle} aria-label="Show side panel" title="People, notes, invites">
          ◀
        </button>
      </aside>
    );
  return (
    <aside
      id={PANEL_ID}
      className={`sidebar ${isDrawer ? 'drawer' : ''}`}
      aria-label="Room panel"
      hidden={isDrawer && !drawer}
      onKeyDown={(e) => {
        if (isDrawer && e.key === 'Escape') onClose();
      }}
    >
      <div className="sidebar-head">
        {isDrawer ? (
          <button ref={closeRef} className="secondary small" onClick={onClose}>
            Close panel
          </button>
        ) : (
          <button className="secondary small" onClick={toggle} aria-label="Hide side panel">
            ▶
          </button>
        )}
      </div>
      <PeoplePanel roomId={roomId} me={me} people={collab.people} control={collab.control} tabTitle={tabTitle} onGrant={(memberId) => emit('control:grant', { memberId })} />
      {member && me && <ControlPanel me={me} control={collab.control} nameOf={nameOf} emit={emit} />}
      {me?.canManage && <InvitesPanel roomId={roomId} myRole={me.role} />}
      <NotesPane doc={collab.doc} readOnly={me ? !me.canType && me.role === 'viewer' : false} onEdit={collab.typed} />
    </aside>
  );
}
