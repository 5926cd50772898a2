'use client';

import { useState } from 'react';
import type { RoomState } from '../../../lib/shared/protocol';

/**
 * Handover controls: a guest who may host takes the VM over when the host has left (or from the
 * server's headless host), and the host gives it to someone on purpose. Either way the new host
 * restores the room's newest saved state, so the terminal goes on where it was.
 */
export default function HandoverControls(p: { state: RoomState | null; watching: boolean; onTake: () => void; onGive: (peer: string) => Promise<void> }) {
  const [giving, setGiving] = useState(false);
  const st = p.state;
  if (!st) return null;
  const mayHost = st.me ? st.me.canHost : true;
  if (st.seat === 'guest' && mayHost && !p.watching && (!st.hostConnected || st.hostHeadless)) {
    return (
      <button title={st.hostConnected ? 'Run the VM in this browser instead of the server’s headless host' : 'The host left: run the room’s VM in this browser, from where it was'} onClick={p.onTake}>
        Take over
      </button>
    );
  }
  if (st.seat === 'host' && st.candidates?.length) {
    return (
      <select
        className="secondary"
        aria-label="Give host to"
        value=""
        disabled={giving}
        onChange={(e) => {
          const peer = e.target.value;
          if (!peer) return;
          setGiving(true);
          void p.onGive(peer).finally(() => setGiving(false));
        }}
      >
        <option value="">{giving ? 'Handing over…' : 'Give host to …'}</option>
        {st.candidates.map((c) => (
          <option key={c.peer} value={c.peer}>
            {c.name}
          </option>
        ))}
      </select>
    );
  }
  return null;
}
