/**
 * The service worker that finishes a leaving host's upload of its VM's final state after the page
 * is gone (see finalState.ts): it gzips the state and sends, through the ordinary room-state
 * routes, only the chunks the server lacks. `waitUntil` keeps it alive until that is done.
 * Bundled by the server (server/roomstate/workerScript.ts).
 */
import { RoomStateClient } from '../vm/RoomStateClient';
import { gzip } from '../vm/snapshotStore';
import { finalStateMessageSchema, type FinalStateMessage } from './finalState';

interface ExtendableMessageEventLike {
  data: unknown;
  waitUntil(p: Promise<unknown>): void;
}
const sw = self as unknown as {
  addEventListener(type: 'message', fn: (e: ExtendableMessageEventLike) => void): void;
  addEventListener(type: 'install', fn: () => void): void;
  skipWaiting(): Promise<void>;
};

async function upload(m: FinalStateMessage): Promise<void> {
  const client = new RoomStateClient({ room: m.room, hostKey: () => m.hostKey, final: true });
  const { sentBytes } = await client.upload({
    vmGz: await gzip(m.state),
    pages: m.pages,
    guestVersion: m.guestVersion,
    diskVersion: m.diskVersion,
    overlayId: m.overlayId,
    overlayGeneration: m.overlayGeneration,
    captureId: m.captureId,
  });
  console.info(`[tandem] the room's final VM state is saved on the server (${sentBytes} bytes sent)`);
}

// A new version takes over at once: a page closing should not meet an old worker.
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('message', (e) => {
  const m = finalStateMessageSchema.safeParse(e.data);
  if (!m.success) return;
  e.waitUntil(upload(m.data).catch((err) => console.warn('[tandem] the final VM state was not saved:', err)));
});
