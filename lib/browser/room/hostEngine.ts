import type { GuestManifest } from '../../shared/GuestManifest';
import type { Engine } from '../vm/Engine';
import { createEngine, type EngineChoice } from '../vm/createEngine';
import { effectiveChoice } from '../vm/enginePreference';
import { fetchVmNet } from '../vm/vmNetwork';
import { RoomStateClient } from '../vm/RoomStateClient';
import { preloadV86 } from '../vm/v86Lib';
import { fetchGuestManifest } from '../vm/guestManifestFetch';
import type { EngineRequest } from './RoomSession';

type RoomManifest = GuestManifest & { engineChoice: EngineChoice; cheerpxDisk: string };

/** `?engine=` in the page's address overrides the room's engine (for trying one out). */
export function engineFromQuery(params: URLSearchParams): EngineChoice | undefined {
  return (['auto', 'cheerpx', 'v86'] as const).find((c) => c === params.get('engine'));
}

/**
 * The host page's engine factory for a RoomSession: reads the room's manifest once, picks the
 * engine (the page's `?engine=`, else the room's, else what works in this browser), and for the
 * server's headless host (a host token) always v86, whose boot snapshot every host restores. The
 * main terminal's VM is linked to the room's state on the server (handover).
 */
export function hostEngineFactory(o: { roomId: string; params: URLSearchParams; hostToken?: string }) {
  // Asked for as the page starts (it is small), not once the socket has given this page its seat.
  const manifest = fetchGuestManifest<RoomManifest>(`/vm/manifest.json?room=${encodeURIComponent(o.roomId)}`);
  manifest.catch(() => {}); // a page that never hosts never reads it; one that does fails its boot with the ManifestError
  return async (req: EngineRequest): Promise<Engine> => {
    const m = await manifest;
    const [cols, rows] = [req.view.cols(), req.view.rows()];
    const hostToken = o.hostToken;
    const choice = hostToken ? 'v86' : effectiveChoice(engineFromQuery(o.params) ?? m.engineChoice);
    // v86's files load while the network token is fetched (V86Engine.boot would start them only later).
    if (choice === 'v86' && !m.diskError) preloadV86(m.lib, m.wasm);
    // The network card's relay, for this host's seat (the server refuses anyone else).
    // A lookup refused because the room's Internet is off: say why next to the terminal (at most once a minute).
    let saidAt = 0;
    const refused = (why: string) => {
      if (Date.now() - saidAt < 60_000) return;
      saidAt = Date.now();
      req.notice(`The VM's network request was refused: ${why}.`);
    };
    const net = m.net ? await fetchVmNet(o.roomId, req.sid, refused) : null;
    return createEngine({
      net,
      choice,
      manifest: m,
      cheerpx: { disk: m.cheerpxDisk, overlayKey: `tandem:${o.roomId}:${req.view.id}:${m.cheerpxDisk}`, bashrcUrl: '/vm/tandem.bashrc', gatewayScriptUrl: '/vm/tandem-gw', room: o.roomId, cols, rows },
      notice: (text, opts) => {
        // Nobody reads the headless host's page: its notices go to the server's log (page console errors are logged).
        if (hostToken) console.error(`[tandem] ${text}`);
        req.notice(text, opts);
      },
      diskKey: `${o.roomId}:${req.view.id}`,
      coldBoot: req.coldBoot,
      // The main terminal's VM is the room's: saved on the server, restored by the next host (crypto.subtle: https or localhost).
      roomState: req.isMain && RoomStateClient.available ? new RoomStateClient({ room: o.roomId, hostKey: req.hostKey, hostToken }) : undefined,
      publishSnapshot:
        hostToken && req.isMain
          ? async (gz) => {
              const r = await fetch(`/vm/boot-snapshot/${m.version}`, { method: 'PUT', body: gz, headers: { 'x-host-token': hostToken } });
              if (!r.ok) throw new Error(`boot snapshot refused: ${r.status}`);
            }
          : undefined,
    });
  };
}
