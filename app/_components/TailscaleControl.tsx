'use client';

import { useEffect, useState } from 'react';
import type { TailscaleControl as Control } from '../../lib/browser/vm/ScreenVm';
import { INITIAL_TAILSCALE, type TailscaleStatus } from '../../lib/browser/vm/tailscale';

/**
 * "Connect to Tailscale" for a CheerpX VM: the login URL as a link, the connection state and the
 * VM's tailnet IP. With v86 (`control` null) it says that it needs the CheerpX engine.
 */
export function TailscaleControl({ control, engine }: { control: Control | null; engine: string | null }) {
  const [status, setStatus] = useState<TailscaleStatus>(INITIAL_TAILSCALE);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setStatus(INITIAL_TAILSCALE);
    control?.onChange(setStatus);
  }, [control]);

  if (!control)
    return (
      <span className="tailscale" data-state="unavailable">
        <button className="secondary" disabled title="Tailscale networking runs inside CheerpX">
          Connect to Tailscale
        </button>{' '}
        <span className="muted">{engine ? `needs the CheerpX engine (this VM runs on ${engine})` : 'needs the CheerpX engine'}</span>
      </span>
    );
  return (
    <span className="tailscale" data-state={status.state}>
      <button
        className="secondary"
        disabled={status.state !== 'Disconnected' && status.state !== 'NeedsLogin' && status.state !== 'Stopped'}
        onClick={() => {
          setError(null);
          control.connect().catch((e) => setError(e instanceof Error ? e.message : String(e)));
        }}
      >
        Connect to Tailscale
      </button>{' '}
      <span className="muted">Tailscale: {status.state}</span>
      {status.loginUrl && status.state !== 'Running' && (
        <>
          {' '}
          <a href={status.loginUrl} target="_blank" rel="noopener noreferrer">
            Log in to Tailscale
          </a>
        </>
      )}
      {status.ip && <span className="badge">IP {status.ip}</span>}
      {error && <span className="bad"> {error}</span>}
    </span>
  );
}
