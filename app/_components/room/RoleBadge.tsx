import { ROLE_LABEL, type RoomMe } from '../../../lib/browser/client/accountsApi';

/** My role in the room; a viewer (or anyone the keyboard mode stops) sees plainly that typing is off. */
export default function RoleBadge({ me, canType }: { me: RoomMe | undefined; canType: boolean }) {
  if (!me?.role) return null;
  if (!canType)
    return (
      <span className="badge role-viewer readonly" data-testid="role-badge" data-readonly="true" title="Your keystrokes are not sent to the terminal">
        {me.role === 'viewer' ? 'viewer — read only' : `${me.role} — read only (someone else has the keyboard)`}
      </span>
    );
  return (
    <span className={`badge role-${me.role}`} data-testid="role-badge" data-readonly="false">
      {ROLE_LABEL[me.role]}
    </span>
  );
}
