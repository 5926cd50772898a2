import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TandemError } from '../../lib/shared/errors';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { MAX_PACK_BYTES, MAX_STATE_PAGES, hashListSchema } from '../../lib/shared/roomState';
import { readJsonObject, sendJson } from '../http/json';
import { HttpError, sendHttpError } from '../commands/HttpError';
import type { RoomStates } from './RoomStates';

/** A manifest names up to MAX_STATE_PAGES pages at ~80 bytes of JSON each. */
const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;
/** A list of hashes (missing / read): 65 bytes of JSON per hash. */
const MAX_HASH_LIST_BYTES = (MAX_STATE_PAGES + 1024) * 70;

export interface RoomStateRouteOptions {
  states: RoomStates;
  roomExists: (room: string) => boolean;
  /** The request carries the key the relay gave the room's current (or, while the seat is empty, last) host. */
  mayUpload: (room: string, req: IncomingMessage) => boolean;
  /** Anyone who may host the room: its host key, the server's headless host, or a member with the host right. */
  mayDownload: (room: string, req: IncomingMessage) => Promise<boolean>;
  log: Logger;
}

const ROUTE_RE = /^\/api\/rooms\/([^/]+)\/state(?:\/(missing|chunks|read))?$/;

/**
 * The room-state routes (see lib/shared/roomState.ts):
 *   GET  /api/rooms/:id/state          the latest state's manifest (204: none)
 *   POST /api/rooms/:id/state/missing  {hashes} → {missing}: which chunks to send
 *   POST /api/rooms/:id/state/chunks   a chunk pack (application/octet-stream) → {stored, bytes}
 *   PUT  /api/rooms/:id/state          the manifest, once its chunks are here → 201 {id, createdAt, bytes}
 *   POST /api/rooms/:id/state/read     {hashes} → a chunk pack
 * Upload needs the host key (x-host-key); reading needs the host right. Returns false for other paths.
 */
export function createRoomStateHandler(o: RoomStateRouteOptions) {
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const m = ROUTE_RE.exec(url.pathname);
    if (!m) return false;
    void handle(req, res, decodeURIComponent(m[1]), m[2] ?? '').catch((e) => {
      if (!(e instanceof TandemError)) o.log.error({ err: e, path: url.pathname }, 'room state route failed');
      // A refused upload's body is not read: close the connection rather than drain megabytes.
      if (e instanceof TandemError && !req.complete) res.setHeader('connection', 'close');
      sendHttpError(res, e);
    });
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, room: string, sub: string): Promise<void> {
    if (!ROOM_ID_RE.test(room) || !o.roomExists(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
    const method = req.method ?? 'GET';
    const allow = sub === '' ? 'GET, PUT' : 'POST';
    if (!allow.split(', ').includes(method)) throw new HttpError('METHOD_NOT_ALLOWED', `use ${allow}`, { allow });
    const upload = method === 'PUT' || sub === 'missing' || sub === 'chunks';
    if (upload && !o.mayUpload(room, req)) throw new HttpError('FORBIDDEN', 'only the room’s current host may upload its VM state');
    if (!upload && !(await o.mayDownload(room, req))) throw new HttpError('FORBIDDEN', 'only someone who may host this room may read its VM state');

    if (sub === '' && method === 'GET') {
      const latest = await o.states.latest(room);
      if (!latest) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
      return sendJson(res, 200, latest);
    }
    if (sub === '' && method === 'PUT') {
      const info = await o.states.commit(room, await readJsonObject(req, MAX_MANIFEST_BYTES));
      o.log.info({ room, id: info.id, bytes: info.bytes, pages: info.manifest.pages.length }, 'room state saved');
      return sendJson(res, 201, { id: info.id, createdAt: info.createdAt, bytes: info.bytes });
    }
    if (sub === 'chunks') {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_PACK_BYTES) throw new HttpError('TOO_LARGE', `a chunk pack is at most ${MAX_PACK_BYTES} bytes`);
      return sendJson(res, 200, await o.states.putPack(room, await readBytes(req, MAX_PACK_BYTES)));
    }
    const parsed = hashListSchema.safeParse(await readJsonObject(req, MAX_HASH_LIST_BYTES));
    if (!parsed.success) throw new HttpError('BAD_MESSAGE', `hashes: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (sub === 'missing') return sendJson(res, 200, { missing: await o.states.missing(room, parsed.data.hashes) });
    const pack = await o.states.readPack(room, parsed.data.hashes);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': pack.byteLength, 'cache-control': 'no-store' });
    res.end(pack);
  }
}

async function readBytes(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new HttpError('TOO_LARGE', `a chunk pack is at most ${maxBytes} bytes`, { connection: 'close' });
    parts.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(parts));
}
