'use client';

import { useState } from 'react';
import { accounts, explain } from '../../../lib/browser/client/accountsApi';

/** "New room": the open form (anyone may start a room without an account). */
export function NewRoomForm({ compact = false }: { compact?: boolean }) {
  return (
    <form method="post" action="/rooms/new" className="row">
      {!compact && <input name="name" placeholder="Room name" aria-label="Room name" maxLength={80} />}
      <button type="submit" className={compact ? 'secondary' : ''}>
        New room
      </button>
    </form>
  );
}

/** "Leave room", with a confirm step: a guest needs the invite link again to come back. */
export function LeaveRoomButton({ roomId, guest, onProblem }: { roomId: string; guest: boolean; onProblem: (text: string) => void }) {
  return (
    <button
      className="secondary"
      title={guest ? 'Leave this room and forget your guest seat in this browser' : 'Leave this room; it is removed from your dashboard'}
      onClick={() => {
        if (!window.confirm(guest ? 'Leave the room? You will need the invite link again to come back.' : 'Leave the room? You will need a new invite to come back.')) return;
        void accounts.leaveRoom(roomId).then(
          () => window.location.assign('/'),
          (err) => onProblem(`Leave room: ${explain(err)}`),
        );
      }}
    >
      Leave room
    </button>
  );
}

export function SaveVmButton({ onSave }: { onSave: () => Promise<void> }) {
  const [saving, setSaving] = useState(false);
  return (
    <button
      className="secondary"
      disabled={saving}
      title="Save this terminal’s VM as it is now (memory and disk) in this browser; the room’s next load restores it"
      onClick={() => {
        setSaving(true);
        void onSave().finally(() => setSaving(false));
      }}
    >
      {saving ? 'Saving…' : 'Save VM'}
    </button>
  );
}

/** "Reset VM…", with a confirm step: it throws away the files the guest wrote in this browser. */
export function ResetVmButton({ onReset }: { onReset: () => void }) {
  return (
    <button
      className="secondary"
      title="Forget this room’s disk changes and saved VM in this browser, and boot from scratch"
      onClick={() => {
        if (window.confirm('Reset the VM? Files you created in this room’s VMs (in this browser) are deleted, and the VM boots from scratch.')) onReset();
      }}
    >
      Reset VM…
    </button>
  );
}
