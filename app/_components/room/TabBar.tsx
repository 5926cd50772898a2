'use client';

import { DEFAULT_TAB, type TabInfo } from '../../../lib/shared/protocol';
import { MAX_HOST_TABS, type RoomSession } from '../../../lib/browser/room/RoomSession';

/** The room's terminals as tabs; the host may open more (each its own VM) and close them. */
export default function TabBar({ tabs, active, host, session }: { tabs: TabInfo[] | undefined; active: string; host: boolean; session: RoomSession | null }) {
  const list = tabs ?? [{ id: DEFAULT_TAB, title: 'Terminal' }];
  return (
    <nav className="tabs" role="tablist" aria-label="Terminals">
      {list.map((t) => (
        <span key={t.id} className={`tab ${t.id === active ? 'active' : ''}`}>
          <button role="tab" aria-selected={t.id === active} className="tab-title" onClick={() => session?.show(t.id)}>
            {t.title}
          </button>
          {host && t.id !== DEFAULT_TAB && (
            <button className="tab-close" aria-label={`Close ${t.title}`} onClick={() => session?.closeTab(t.id)}>
              ×
            </button>
          )}
        </span>
      ))}
      {host && list.length < MAX_HOST_TABS && (
        <button className="tab-new" aria-label="New terminal" title="New terminal (another VM)" onClick={() => session?.openTab()}>
          +
        </button>
      )}
    </nav>
  );
}
