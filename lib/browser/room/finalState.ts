import * as z from 'zod/mini';
import { ROOM_ID_RE } from '../../shared/roomId';
import { MAX_STATE_PAGES } from '../../shared/roomStatePack';
import type { RawRoomStateCapture } from '../vm/RoomStateClient';
import { pruneFinalCaptures, rememberFinalCapture } from '../vm/finalCaptureMarks';

/**
 * A host closing its page loses nothing (issue 11): in pagehide, where nothing can be awaited, the
 * page captures the VM synchronously (V86Engine.captureRoomStateNow), tells the server with a
 * keepalive request that a final state is coming (so the next host's restore waits for it,
 * bounded: server/roomstate/FinalStates.ts), and hands the state — transferred, not copied — to
 * a service worker of ours (finalStateWorker.ts), which gzips it and uploads what the server lacks
 * through the ordinary room-state routes after the page is gone. The worker gets the page's host
 * key with that one state and keeps nothing: the key is worth what it was worth to the page (the
 * room's current host's, or the announced final state's until it is committed or times out).
 */

/** Where the server serves the worker (server/roomstate/workerScript.ts). */
export const FINAL_STATE_WORKER_URL = '/room-state-worker.js';
/** A scope with no pages in it: the worker controls nothing and sees no page's requests. */
const WORKER_SCOPE = '/room-state-worker/';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'a disk page');
const int = () => z.number().check(z.int());
/**
 * What a page posts to the worker (checked there: any page of the origin may post to it). zod's
 * mini build: the worker is a bundle of its own, and full zod would be nearly all of it.
 */
export const finalStateMessageSchema = z.object({
  type: z.literal('tandem-final-state'),
  room: z.string().check(z.regex(ROOM_ID_RE)),
  hostKey: z.string().check(z.minLength(1), z.maxLength(200)),
  state: z.instanceof(ArrayBuffer),
  // As many pages as a state may carry (the server refuses more; the worker need not gzip them first).
  pages: z.array(z.tuple([int().check(z.nonnegative()), bytes, int()])).check(z.maxLength(MAX_STATE_PAGES)),
  guestVersion: z.string(),
  diskVersion: z.nullable(z.string()),
  overlayId: z.nullable(z.string()),
  overlayGeneration: int(),
  captureId: z.string().check(z.maxLength(64)),
});
export type FinalStateMessage = z.infer<typeof finalStateMessageSchema>;

/** What RoomSession needs to send its VM's last state as the page closes. */
export interface FinalStateHandoff {
  /** Calls `fn` when the page is being left (pagehide); returns its removal. */
  onLeave(fn: () => void): () => void;
  /** Synchronous: announces the final state and hands it to the worker. False: no worker to take it. */
  send(hostKey: string, capture: RawRoomStateCapture): boolean;
}

/** Registers the worker now (it must be running before the page closes) and returns the handoff for `room`. */
export function finalStateHandoff(room: string): FinalStateHandoff | undefined {
  pruneFinalCaptures(); // the marks earlier closing pages left (finalCaptureMarks.ts)
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator) || typeof fetch === 'undefined') return undefined;
  let worker: ServiceWorker | null = null;
  navigator.serviceWorker
    .register(FINAL_STATE_WORKER_URL, { scope: WORKER_SCOPE })
    .then((reg) => {
      const w = reg.installing ?? reg.waiting ?? reg.active;
      if (reg.active) worker = reg.active;
      w?.addEventListener('statechange', () => {
        if (w.state === 'activated') worker = w;
      });
    })
    .catch((e) => console.warn('[tandem] the final-state worker is not available (a closing host loses its last seconds):', e));
  return {
    onLeave(fn) {
      window.addEventListener('pagehide', fn);
      return () => window.removeEventListener('pagehide', fn);
    },
    send(hostKey, c) {
      if (!worker) return false;
      // Keepalive: this small request outlives the page. The state itself is far past keepalive's 64 KiB.
      void fetch(`/api/rooms/${encodeURIComponent(room)}/state/final`, { method: 'POST', keepalive: true, headers: { 'x-host-key': hostKey } }).catch(() => {});
      const captureId = crypto.randomUUID();
      rememberFinalCapture(room, captureId);
      const msg: FinalStateMessage = { type: 'tandem-final-state', room, hostKey, ...c, captureId };
      worker.postMessage(msg, [c.state, ...c.pages.map((p) => p[1].buffer as ArrayBuffer)]);
      return true;
    },
  };
}
