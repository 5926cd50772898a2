import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RelayHub } from '../relay/attachRelay';
import type { HeadlessHostPool } from '../host/HeadlessHostPool';
import type { GuestManifest } from '../../lib/shared/GuestManifest';
import { FsRoomStateStorage } from './RoomStateStorage';
import { RoomStates } from './RoomStates';
import { createRoomStateHandlers } from './roomStateRoutes';
import { FinalStates } from './FinalStates';

/** Retention runs this often. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Warming the boot snapshot gives up after this long (a cold boot of the Debian disk takes ~15 s). */
const WARM_TIMEOUT_MS = 180_000;

export interface RoomStateDeps {
  dataDir: string;
  guest: GuestManifest;
  hub: RelayHub;
  roomExists: (room: string) => boolean;
  maxMb: number;
  retentionDays: number;
  /** When the host leaves and people remain, a guest has this long to press "Take over" before the server's headless host does; 0: never. */
  handoverWaitMs: number;
  /** A leaving host's announced final state is waited for at most this long (FinalStates). */
  finalWaitMs: number;
  /** Valid headless host token for the room (x-host-token). */
  isHeadlessHost: (room: string, token: string) => boolean;
  /** A person (cookies of the request) may host the room; may throw (no access at all). */
  canHost: (room: string, req: IncomingMessage) => Promise<boolean>;
  headless: () => HeadlessHostPool | null;
  log: Logger;
}

/**
 * Room states on the server and handover (issue 11): the routes, the headless host stepping in
 * when a host leaves and nobody takes over, retention, and warming the trusted boot snapshot.
 */
export function attachRoomStates(d: RoomStateDeps) {
  const states = new RoomStates({
    storage: new FsRoomStateStorage(path.join(d.dataDir, 'roomstate')),
    guest: () => d.guest,
    maxBytesPerRoom: d.maxMb * 1024 * 1024,
    retentionMs: d.retentionDays * 24 * 60 * 60 * 1000,
  });
  const header = (req: IncomingMessage, name: string) => String(req.headers[name] ?? '');
  const finals = new FinalStates(d.finalWaitMs);
  const isHost = (room: string, req: IncomingMessage) => d.hub.relay(room)?.mayUpload(header(req, 'x-host-key')) ?? false;
  const routes = createRoomStateHandlers({
    states,
    finals,
    roomExists: d.roomExists,
    isHost,
    mayUpload: (room, req) => isHost(room, req) || finals.mayUpload(room, header(req, 'x-host-key')),
    mayDownload: async (room, req) =>
      isHost(room, req) ||
      d.isHeadlessHost(room, header(req, 'x-host-token')) ||
      d.canHost(room, req).catch(() => false),
    log: d.log,
  });

  const waits = new Map<string, ReturnType<typeof setTimeout>>();
  let warmingRoom: string | null = null;
  let closed = false;
  const onHost = (room: string, connected: boolean) => {
    clearTimeout(waits.get(room));
    waits.delete(room);
    if (connected || !(d.hub.relay(room)?.size ?? 0) || d.handoverWaitMs <= 0) return;
    // People remain: a guest may take over; if nobody does, the server's headless host restores the
    // room's state. Its browser starts now (seconds of the handover otherwise), its page only then.
    d.headless()?.prepare();
    waits.set(
      room,
      setTimeout(() => {
        waits.delete(room);
        const relay = d.hub.relay(room);
        if (!relay || relay.hasHost || relay.size === 0) return;
        d.log.info({ room }, 'nobody took over: the headless host resumes the room');
        void d.headless()?.ensureHost(room).catch((err) => d.log.warn({ err: String(err), room }, 'headless handover failed'));
      }, d.handoverWaitMs).unref(),
    );
  };
  d.hub.events.on('host', onHost);

  const sweep = setInterval(() => void states.sweep(d.roomExists).catch((err) => d.log.warn({ err }, 'room state retention failed')), SWEEP_INTERVAL_MS).unref();

  return {
    states,
    /** The HTTP handlers (server/http/routes.ts places them). */
    routes,
    /**
     * Makes sure the current guest version has a trusted boot snapshot: if none was published, a
     * headless host cold-boots a scratch room once (its page publishes the snapshot), so the first
     * room of a fresh server restores in seconds instead of cold-booting. Never rejects.
     */
    async warmBootSnapshot(o: { snapshotFile: string; createRoom: () => string; deleteRoom: (id: string) => void }): Promise<void> {
      const pool = d.headless();
      if (!pool || fs.existsSync(o.snapshotFile) || closed) return;
      const room = o.createRoom();
      warmingRoom = room;
      const t0 = Date.now();
      try {
        await pool.ensureHost(room);
        while (!fs.existsSync(o.snapshotFile) && Date.now() - t0 < WARM_TIMEOUT_MS && !closed) await new Promise((r) => setTimeout(r, 500));
        const ok = fs.existsSync(o.snapshotFile);
        if (ok) d.log.info({ ms: Date.now() - t0 }, 'boot snapshot warmed');
        else if (!closed) d.log.warn({ ms: Date.now() - t0 }, 'the boot snapshot was not published in time: new rooms boot cold until a headless host publishes one');
      } catch (err) {
        d.log.warn({ err: String(err) }, 'could not warm the boot snapshot');
      } finally {
        warmingRoom = null;
        await pool.release(room).catch(() => {});
        try {
          o.deleteRoom(room);
        } catch (err) {
          d.log.debug({ err: String(err), room }, 'scratch room not deleted (server closing)');
        }
      }
    },
    /** The scratch room whose headless host is warming the boot snapshot (never closed as idle). */
    warming: (room: string) => room === warmingRoom,
    close() {
      closed = true;
      finals.close();
      d.hub.events.off('host', onHost);
      for (const t of waits.values()) clearTimeout(t);
      waits.clear();
      clearInterval(sweep);
    },
  };
}
