import type { Engine } from './Engine';
import { rememberCheerpXFailed } from './enginePreference';
import type { GuestManifest } from './V86Engine';

export type EngineChoice = 'auto' | 'cheerpx' | 'v86';

export interface EngineSetup {
  choice: EngineChoice;
  manifest: GuestManifest;
  /** For CheerpX: the disk (DISK_SOURCE or WebVM's Debian image) and the overlay key. */
  cheerpx: { disk: string; overlayKey: string; bashrcUrl: string; gatewayScriptUrl: string; room: string; cols: number; rows: number };
  publishSnapshot?: (gz: ArrayBuffer) => Promise<void>;
  /** v86: `room:tab`, the key of the disk overlay and of the VM's snapshots. */
  diskKey?: string;
  /** v86: boot from scratch, ignoring snapshots (after "Reset VM"). */
  coldBoot?: boolean;
  /** v86: the room's state on the server (the main terminal's VM only). */
  roomState?: import('./RoomStateClient').RoomStateClient;
  /** Shown to the user, e.g. when auto falls back to v86; `reset`: offer "Reset VM" with it. */
  notice: (text: string, opts?: { reset?: boolean }) => void;
  /** v86: the network card's relay (lib/browser/vm/vmNetwork.ts). */
  net?: { relayUrl: string; mtu: number; dohServer: string; token: string } | null;
}

/**
 * Picks the VM engine. `auto` tries CheerpX for a few seconds and falls back to v86 (which always
 * works offline) with a visible notice; `cheerpx` fails loudly instead of falling back.
 */
export async function createEngine(s: EngineSetup): Promise<Engine> {
  if (s.choice !== 'v86') {
    try {
      const { loadCheerpX, CheerpXEngine } = await import('./CheerpXEngine');
      const [mod, bashrc, gatewayScript] = await Promise.all([
        loadCheerpX(),
        fetch(s.cheerpx.bashrcUrl).then((r) => r.text()),
        fetch(s.cheerpx.gatewayScriptUrl).then((r) => (r.ok ? r.text() : '')),
      ]);
      // curl/wget through POST /api/gateway, with this host seat's network token (none: no wrappers).
      const gateway = s.net?.token && gatewayScript ? { room: s.cheerpx.room, netToken: s.net.token, script: gatewayScript } : null;
      return new CheerpXEngine(mod, { ...s.cheerpx, bashrc, gateway });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      rememberCheerpXFailed();
      if (s.choice === 'cheerpx') throw new Error(`CheerpX could not start: ${reason}`);
      s.notice(`CheerpX is not available here (${reason}); running the v86 engine instead.`);
    }
  }
  const { V86Engine } = await import('./V86Engine');
  return new V86Engine(s.manifest, { publishSnapshot: s.publishSnapshot, diskKey: s.diskKey, coldBoot: s.coldBoot, notice: s.notice, net: s.net, roomState: s.roomState });
}
