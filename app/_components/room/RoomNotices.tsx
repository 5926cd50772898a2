import type { ReactNode } from 'react';
import type { ProtocolErrorPayload } from '../../../lib/shared/protocol';

/**
 * The notices above a room's VM: a refusal that ended the connection, the host being away (for
 * guests), a passing notice, and the engine's own (for the host, with an optional action).
 */
export default function RoomNotices(p: {
  fatal: ProtocolErrorPayload | null;
  hostAway: boolean;
  notice: string | null;
  engineNotice: string | null;
  engineAction?: ReactNode;
}) {
  return (
    <>
      {p.fatal && (
        <div className="notice bad">
          {p.fatal.code}: {p.fatal.message}
        </div>
      )}
      {p.hostAway && (
        <div className="notice warn" role="status">
          Host disconnected — press Take over to run the VM in this browser from where it was; otherwise the server’s headless host resumes it in a few seconds (when enabled).
        </div>
      )}
      {p.notice && <div className="notice warn">{p.notice}</div>}
      {p.engineNotice && (
        <div className="notice warn" role="status">
          {p.engineNotice} {p.engineAction}
        </div>
      )}
    </>
  );
}
