import type { IncomingMessage } from 'node:http';
import { ROOM_GUESTS, PROTOCOL_VERSION } from '../../lib/shared/protocol';
import { DEFAULT_CHEERPX_DISK } from '../../lib/shared/engines';
import { sendFile } from '../assets/rangeFile';
import type { GuestManifest } from '../assets/guestManifest';
import type { Env } from '../env';
import type { RoomStore } from '../rooms/RoomStore';
import type { MembershipStore } from '../accounts/MembershipStore';
import type { Authenticator } from '../access/Authenticator';
import type { OpenRooms } from '../rooms/OpenRooms';
import type { ClientAddressOf } from './clientAddress';
import { TandemError } from '../../lib/shared/errors';
import { HttpError } from './errors';
import { readBody, sendJson } from './json';
import type { RequestContext } from './router';

/** The "new room" form is a name and a guest: a few hundred bytes. */
const MAX_FORM_BYTES = 4 * 1024;

export interface SiteDeps {
  clientAddress: ClientAddressOf;
  env: Pick<Env, 'VM_ENGINE' | 'DISK_SOURCE'>;
  guest: GuestManifest;
  /** The bundled (small) guest, which /alpine's screen and small-guest rooms boot. */
  bundledGuest: GuestManifest;
  /** The root disk's file, when one is announced. */
  rootDiskFile: string | null;
  /** `version`: the URL's `?v=`, the guest version it was asked under. */
  vmAsset(req: IncomingMessage, res: RequestContext['res'], name: string, version: string | null): void;
  bootSnapshot(req: IncomingMessage, res: RequestContext['res'], version: string): Promise<void>;
  rooms: RoomStore;
  members: MembershipStore;
  authn: Authenticator;
  openRooms: OpenRooms;
  /** Rooms with a live relay, for /healthz. */
  liveRooms(): number;
  openapi(): unknown;
}

/** The site's own routes beside the JSON API: health, the VM's files, the signed-out "new room" form. */
export function createSiteHandlers(d: SiteDeps) {
  const started = Date.now();

  /** The guest to boot plus this room's engine choice (room setting, else VM_ENGINE). */
  function manifestFor(roomId: string | null, bundled = false) {
    const room = roomId ? d.rooms.get(roomId) : undefined;
    // The small guest is v86's own: a room that asks for it runs v86 whatever the engine setting.
    const small = bundled || room?.guest === 'small';
    const engine = (room?.guest === 'small' ? 'v86' : (room?.engine ?? d.env.VM_ENGINE)) as 'auto' | 'cheerpx' | 'v86';
    return { ...(small ? d.bundledGuest : d.guest), engineChoice: engine, cheerpxDisk: d.env.DISK_SOURCE ?? DEFAULT_CHEERPX_DISK };
  }

  /** OpenRooms' refusal as an HTTP answer, with Retry-After when it says when. */
  function admit(ip: string): string {
    try {
      return d.openRooms.admit(ip);
    } catch (e) {
      const retryMs = (e as { retryAfterMs?: number }).retryAfterMs;
      if (e instanceof TandemError && retryMs) throw new HttpError(e.code, e.message, { 'retry-after': String(Math.ceil(retryMs / 1000)) });
      throw e;
    }
  }

  return {
    health: ({ res }: RequestContext) =>
      sendJson(res, 200, { ok: true, protocol: PROTOCOL_VERSION, guest: d.guest.version, uptimeMs: Date.now() - started, rooms: d.liveRooms() }),
    manifest: ({ res, url }: RequestContext) => sendJson(res, 200, manifestFor(url.searchParams.get('room'), url.searchParams.get('guest') === 'bundled')),
    bootSnapshot: ({ req, res, params }: RequestContext) => d.bootSnapshot(req, res, params.version),
    /** The root disk, read lazily by v86 with Range requests; its URL carries its version. */
    disk: ({ req, res, url }: RequestContext) => {
      if (!d.rootDiskFile || url.pathname !== d.guest.disk?.url) throw new HttpError('NOT_FOUND', 'no such disk');
      sendFile(req, res, d.rootDiskFile, { immutable: true });
    },
    vmAsset: ({ req, res, url, params }: RequestContext) => d.vmAsset(req, res, params.rest, url.searchParams.get('v')),
    /** Signed in: a members-only room of theirs. Signed out: an open room, as before accounts. */
    newRoomForm: async ({ req, res }: RequestContext) => {
      const form = new URLSearchParams(await readBody(req, MAX_FORM_BYTES));
      const user = await d.authn.user(req.headers);
      // Anyone may make an open room: rate-limited and capped per client and for the server.
      const creatorKey = user ? null : admit(d.clientAddress(req));
      const room = d.rooms.create(form.get('name') || 'Untitled room', { guest: ROOM_GUESTS.find((g) => g === form.get('guest')) ?? null, creatorKey });
      if (user) d.members.addOwner(room.id, user.id);
      res.writeHead(303, { location: `/r/${room.id}` }).end();
    },
    openapi: ({ res }: RequestContext) => sendJson(res, 200, d.openapi(), { 'cache-control': 'public, max-age=300' }),
  };
}
