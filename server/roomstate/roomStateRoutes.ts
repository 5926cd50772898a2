import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { z } from 'zod';
import { MAX_PACK_BYTES, MAX_STATE_PAGES, hashListSchema, roomStateManifestSchema } from '../../lib/shared/roomState';
import { readBuffer, readJsonObject, sendJson } from '../http/json';
import { HttpError } from '../http/errors';
import type { RequestContext } from '../http/router';
import type { RouteDoc } from '../http/routeDoc';
import type { RoomStates } from './RoomStates';
import type { FinalStates } from './FinalStates';
import { serveWorkerScript } from './workerScript';

/** A manifest names up to MAX_STATE_PAGES pages at ~80 bytes of JSON each. */
const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;
/** A list of hashes (missing / read): 65 bytes of JSON per hash. */
const MAX_HASH_LIST_BYTES = (MAX_STATE_PAGES + 1024) * 70;

export interface RoomStateRouteOptions {
  states: RoomStates;
  roomExists: (room: string) => boolean;
  /**
   * The request carries the key the relay gave the room's current (or, while the seat is empty, last)
   * host, or the key that announced the final state the room waits for (FinalStates).
   */
  mayUpload: (room: string, req: IncomingMessage) => boolean;
  /** The request carries the current (or, while the seat is empty, last) host's key: it may announce a final state. */
  isHost: (room: string, req: IncomingMessage) => boolean;
  finals: FinalStates;
  /** Anyone who may host the room: its host key, the server's headless host, or a member with the host right. */
  mayDownload: (room: string, req: IncomingMessage) => Promise<boolean>;
  log: Logger;
}

type Handler = (ctx: RequestContext) => Promise<void>;

/**
 * The room-state routes (see lib/shared/roomState.ts), one handler each; the route table
 * (server/http/routes.ts) says which path and method each answers:
 *   GET  /api/rooms/:id/state          the latest state's manifest (204: none)
 *   POST /api/rooms/:id/state/missing  {hashes} → {missing}: which chunks to send
 *   POST /api/rooms/:id/state/chunks   a chunk pack (application/octet-stream) → {stored, bytes}
 *   PUT  /api/rooms/:id/state          the manifest, once its chunks are here → 201 {id, createdAt, bytes}
 *   POST /api/rooms/:id/state/read     {hashes} → a chunk pack
 *   POST /api/rooms/:id/state/final    (a leaving host's keepalive request) its final state is coming → 202 {waitMs}
 * Upload needs the host key (x-host-key); reading needs the host right. While a final state is
 * announced, reading the newest state waits for it (bounded: FinalStates).
 */
export function createRoomStateHandlers(o: RoomStateRouteOptions) {
  /** Checks the room and the caller, then runs `body`; a refused upload's connection is closed rather than drained. */
  const guarded =
    (kind: 'upload' | 'read' | 'announce', body: (ctx: RequestContext, room: string) => Promise<void>): Handler =>
    async (ctx) => {
      const room = ctx.params.id;
      try {
        if (!ROOM_ID_RE.test(room) || !o.roomExists(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        if (kind === 'announce' && !o.isHost(room, ctx.req)) throw new HttpError('FORBIDDEN', 'only the room’s current host may announce its final VM state');
        if (kind === 'upload' && !o.mayUpload(room, ctx.req)) throw new HttpError('FORBIDDEN', 'only the room’s current host may upload its VM state');
        if (kind === 'read' && !(await o.mayDownload(room, ctx.req))) throw new HttpError('FORBIDDEN', 'only someone who may host this room may read its VM state');
        await body(ctx, room);
      } catch (e) {
        // Megabytes of a refused pack are not worth reading to keep the connection alive.
        if (!ctx.req.complete && !ctx.res.headersSent) ctx.res.setHeader('connection', 'close');
        throw e;
      }
    };

  const hashes = async (req: IncomingMessage): Promise<string[]> => {
    const parsed = hashListSchema.safeParse(await readJsonObject(req, MAX_HASH_LIST_BYTES));
    if (!parsed.success) throw new HttpError('BAD_MESSAGE', `hashes: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data.hashes;
  };

  return {
    latest: guarded('read', async ({ res }, room) => {
      // A leaving host's final state is on its way: the next host restores that one, not an older one.
      await o.finals.wait(room);
      const latest = await o.states.latest(room);
      if (!latest) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
      sendJson(res, 200, latest);
    }),
    commit: guarded('upload', async ({ req, res }, room) => {
      const info = await o.states.commit(room, await readJsonObject(req, MAX_MANIFEST_BYTES));
      // The awaited final state, or a newer one from another host: either way, readers go on.
      const key = String(req.headers['x-host-key'] ?? '');
      if (req.headers['x-final-state'] === '1') o.finals.committed(room, key);
      else if (o.finals.awaitedKey(room) !== null && o.finals.awaitedKey(room) !== key) o.finals.settle(room);
      o.log.info({ room, id: info.id, bytes: info.bytes, pages: info.manifest.pages.length }, 'room state saved');
      sendJson(res, 201, { id: info.id, createdAt: info.createdAt, bytes: info.bytes });
    }),
    missing: guarded('upload', async ({ req, res }, room) => sendJson(res, 200, { missing: await o.states.missing(room, await hashes(req)) })),
    chunks: guarded('upload', async ({ req, res }, room) => sendJson(res, 200, await o.states.putPack(room, new Uint8Array(await readBuffer(req, MAX_PACK_BYTES, 'a chunk pack'))))),
    final: guarded('announce', async ({ req, res }, room) => {
      const { waitMs } = o.finals.announce(room, String(req.headers['x-host-key'] ?? ''));
      o.log.info({ room, waitMs }, 'the leaving host announced its final VM state');
      sendJson(res, 202, { waitMs });
    }),
    worker: serveWorkerScript,
    read: guarded('read', async ({ req, res }, room) => {
      const pack = await o.states.readPack(room, await hashes(req));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': pack.byteLength, 'cache-control': 'no-store' });
      res.end(pack);
    }),
  };
}

const stateInfoSchema = z.object({ id: z.string(), createdAt: z.number().int(), bytes: z.number().int(), manifest: roomStateManifestSchema });
const HOST_KEY = 'Upload: the `x-host-key` header the relay gives the room’s host with its seat.';
const READER = 'Read: the host key, the server’s headless host token (`x-host-token`), or the session of a member who may host.';

/** What the OpenAPI document says about each room-state route (the schemas are the ones the handlers validate with). */
export const ROOM_STATE_DOCS = {
  latest: {
    summary: `The room’s newest VM state (manifest); 204 when it has none. ${READER}`,
    tag: 'room state',
    auth: 'session',
    responses: { 200: { description: 'The newest state', schema: stateInfoSchema }, 204: { description: 'No state saved' } },
  },
  commit: {
    summary: `Commits a state whose chunks were all sent; it becomes the room’s newest. ${HOST_KEY}`,
    tag: 'room state',
    auth: 'session',
    body: roomStateManifestSchema,
    responses: { 201: { description: 'Stored', schema: z.object({ id: z.string(), createdAt: z.number().int(), bytes: z.number().int() }) } },
    errors: [409, 413, 429],
  },
  missing: {
    summary: `Which of these chunks the server lacks (send only those). ${HOST_KEY}`,
    tag: 'room state',
    auth: 'session',
    body: hashListSchema,
    responses: { 200: { description: 'The hashes to send', schema: z.object({ missing: z.array(z.string()) }) } },
  },
  chunks: {
    summary: `A chunk pack (application/octet-stream: [32-byte sha256][u32 BE length][bytes]…, at most ${MAX_PACK_BYTES} bytes), stored all or none. ${HOST_KEY}`,
    tag: 'room state',
    auth: 'session',
    rawBody: { media: 'application/octet-stream' },
    responses: { 200: { description: 'Stored', schema: z.object({ stored: z.number().int(), bytes: z.number().int() }) } },
    errors: [413, 429],
  },
  final: {
    summary: `A leaving host (a keepalive request as its page closes) says its final state is coming; until it is committed, or for at most ROOM_STATE_FINAL_WAIT_MS, reading the newest state waits for it. The final upload's requests carry \`x-final-state: 1\`. ${HOST_KEY}`,
    tag: 'room state',
    auth: 'session',
    responses: { 202: { description: 'Readers wait for it', schema: z.object({ waitMs: z.number().int() }) } },
  },
  read: {
    summary: `These chunks as one pack (application/octet-stream). ${READER}`,
    tag: 'room state',
    auth: 'session',
    body: hashListSchema,
    responses: { 200: { description: 'A chunk pack', media: 'application/octet-stream' } },
    errors: [413],
  },
} satisfies Record<string, RouteDoc>;
