import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CommandRow } from '../../drizzle/schema';
import { TandemError, type ErrorCode } from '../../lib/shared/errors';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { readJsonObject, sendJson } from '../http/json';
import { MAX_CMD_BYTES, MAX_IDEMPOTENCY_KEY_CHARS, isFinal, type CommandQueue } from './CommandQueue';
import { apiKeyAuthenticator, type ApiAuthenticator, type ApiPrincipal } from './apiAuth';
import { HttpError } from '../http/errors';
import type { RequestContext, RouteHandler } from '../http/router';
import { parse } from '../http/validate';
import { API_WAIT_MS, MAX_API_BODY_BYTES } from './apiCaps';
import { batchSchema, commandListQuerySchema, commandReadQuerySchema, createSchema, roomListQuerySchema } from './apiSchemas';

export * from './apiCaps';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A room as GET /api/rooms shows it. */
export interface ApiRoom {
  id: string;
  name: string;
  createdAt: Date;
  /** An archived room takes no new commands. */
  archivedAt?: Date | null;
}

export interface ApiRooms {
  get(id: string): ApiRoom | undefined;
  /** Newest first, at most `limit`; only `ids` when given. */
  list(limit: number, ids?: readonly string[]): ApiRoom[];
  /** Whether a host (a person's browser or the server's headless one) runs the room's VM now. */
  hostConnected(id: string): boolean;
}

export interface ApiOptions {
  queue: CommandQueue;
  roomExists(id: string): boolean;
  /** Room look-ups for GET /api/rooms[/:id]; without them those answer 404. */
  rooms?: ApiRooms;
  /** Unset: the API answers 503 (it is off). Ignored when `authenticate` is given. */
  apiKey: string | undefined;
  /** Replaces the API_KEY check (e.g. per-user tokens). */
  authenticate?: ApiAuthenticator;
  log: Logger;
  waitMs?: number;
}

/**
 * The command API (design.md, "HTTP contracts"). The seed-compatible dialect: POST /api runs a
 * command in a room's terminal and answers with its output; GET /api, /api/commands/:id read
 * results; DELETE cancels. The instructor endpoints: GET /api/rooms, /api/rooms/:id/commands[/:cid]
 * and POST /api/commands/batch (one command in many rooms). Returns one handler per route; the
 * route table (server/http/routes.ts) says which path and method each answers.
 */
export function createApiHandlers(opts: ApiOptions) {
  const waitMs = opts.waitMs ?? API_WAIT_MS;
  const authenticate = opts.authenticate ?? apiKeyAuthenticator(opts.apiKey);
  /** Every command-API route authenticates first: the one place it checks credentials. */
  const authed =
    (fn: (ctx: RequestContext, who: ApiPrincipal) => Promise<void> | void): RouteHandler =>
    (ctx) =>
      fn(ctx, authenticate(ctx.req, ctx.url));
  const room = (url: URL) => url.searchParams.get('room');

  return {
    /** POST /api */
    run: authed(({ req, res, url }, who) => create(req, res, url, who)),
    /** GET /api: the list, or one command with ?commandId= */
    read: authed(({ res, url }, who) =>
      url.searchParams.has('commandId') ? show(res, url, who, url.searchParams.get('commandId')!, room(url)) : list(res, url, who, room(url)),
    ),
    batch: authed(({ req, res, url }, who) => batch(req, res, url, who)),
    showCommand: authed(({ res, url, params }, who) => show(res, url, who, params.id, room(url))),
    cancelCommand: authed(({ res, url, params }, who) => cancel(res, who, params.id, room(url))),
    listRooms: authed(({ res, url }, who) => listRooms(res, url, who)),
    showRoom: authed(({ res, params }, who) => {
      checkRoom(who, params.id);
      const row = opts.rooms?.get(params.id);
      if (!row) throw new HttpError('ROOM_NOT_FOUND', `no room ${params.id}`);
      sendJson(res, 200, { success: true, room: roomView(row) });
    }),
    runInRoom: authed(({ req, res, url, params }, who) => {
      checkRoom(who, params.id);
      return create(req, res, url, who, params.id);
    }),
    listRoomCommands: authed(({ res, url, params }, who) => {
      checkRoom(who, params.id);
      return list(res, url, who, params.id);
    }),
    showRoomCommand: authed(({ res, url, params }, who) => {
      checkRoom(who, params.id);
      return show(res, url, who, params.commandId, params.id);
    }),
    cancelRoomCommand: authed(({ res, params }, who) => {
      checkRoom(who, params.id);
      return cancel(res, who, params.commandId, params.id);
    }),
  };

  /** POST /api (room from the body or ?room=) and POST /api/rooms/:id/commands (room from the path). */
  async function create(req: IncomingMessage, res: ServerResponse, url: URL, who: ApiPrincipal, pathRoom?: string): Promise<void> {
    const body = await readJsonObject(req, MAX_API_BODY_BYTES);
    const q = url.searchParams;
    const input = {
      cmd: body.cmd ?? q.get('cmd') ?? undefined,
      room: body.room ?? q.get('room') ?? undefined,
      timeoutMs: body.timeoutMs ?? q.get('timeoutMs') ?? undefined,
      wait: body.wait ?? q.get('wait') ?? undefined,
    };
    if (pathRoom !== undefined) {
      if (input.room !== undefined && input.room !== pathRoom) throw new HttpError('BAD_MESSAGE', 'room: differs from the room in the URL');
      input.room = pathRoom;
    }
    checkCmdSize(input.cmd);
    const { cmd, room, timeoutMs, wait } = parse(createSchema, input);
    checkRoom(who, room, 'write');
    const { command, created } = opts.queue.enqueue({ room, cmd, timeoutMs, idempotencyKey: idempotencyKey(req) });
    const headers: Record<string, string> = created ? {} : { 'idempotent-replayed': 'true' };
    await respond(res, command, wait ? waitMs : 0, headers);
  }

  /**
   * One command in many rooms: queued in each, then (unless ?wait=false) waited for together.
   * A room that cannot take it gets an error item; the others run regardless.
   */
  async function batch(req: IncomingMessage, res: ServerResponse, url: URL, who: ApiPrincipal): Promise<void> {
    const body = await readJsonObject(req, MAX_API_BODY_BYTES);
    const input = { ...body, wait: body.wait ?? url.searchParams.get('wait') ?? undefined };
    checkCmdSize(body.cmd);
    const { rooms, cmd, timeoutMs, wait } = parse(batchSchema, input);
    const key = idempotencyKey(req);
    if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_CHARS))
      throw new HttpError('BAD_MESSAGE', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters`);
    const items: BatchItem[] = rooms.map((room) => {
      try {
        checkRoom(who, room, 'write');
        // Idempotency keys are per room, so one key makes the whole batch safe to retry.
        return { room, row: opts.queue.enqueue({ room, cmd, timeoutMs, idempotencyKey: key }).command };
      } catch (e) {
        if (!(e instanceof TandemError)) throw e;
        return { room, error: { code: e.code, message: e.message } };
      }
    });
    if (wait) {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      await Promise.all(
        items.map(async (it) => {
          if (it.row && !isFinal(it.row.state)) it.row = (await opts.queue.wait(it.row.id, waitMs, gone.signal)) ?? it.row;
        }),
      );
      if (res.destroyed) return;
    }
    const pending = items.some((it) => it.row && !isFinal(it.row.state));
    const results = items.map((it) => (it.row ? view(it.row) : { room: it.room, success: false, error: it.error! }));
    sendJson(res, pending ? 202 : 200, { success: true, results });
  }

  async function show(res: ServerResponse, url: URL, who: ApiPrincipal, id: string, room: string | null): Promise<void> {
    const q = parse(commandReadQuerySchema, query(url));
    const row = find(who, id, room);
    await respond(res, row, q.wait ? Math.min(q.waitMs ?? waitMs, waitMs) : 0);
  }

  function list(res: ServerResponse, url: URL, who: ApiPrincipal, room: string | null): void {
    if (room !== null) checkRoom(who, room);
    const { limit } = parse(commandListQuerySchema, query(url));
    // A token's rooms filter the query itself, so a limit counts only commands it may see.
    const rows = opts.queue.list({ room: room ?? undefined, rooms: who.roomIds() ?? undefined, limit });
    // Outputs can be a MiB each: the list leaves them out; fetch one command for its output.
    sendJson(res, 200, { success: true, commands: rows.map((r) => view(r, false)) });
  }

  function listRooms(res: ServerResponse, url: URL, who: ApiPrincipal): void {
    if (!opts.rooms) throw new HttpError('NOT_FOUND', 'this server does not list rooms');
    const { limit } = parse(roomListQuerySchema, query(url));
    const rooms = opts.rooms.list(limit, who.roomIds() ?? undefined);
    sendJson(res, 200, { success: true, rooms: rooms.map(roomView) });
  }

  function roomView(r: ApiRoom) {
    return { id: r.id, name: r.name, createdAt: r.createdAt.toISOString(), hostConnected: opts.rooms?.hostConnected(r.id) ?? false };
  }

  async function cancel(res: ServerResponse, who: ApiPrincipal, id: string, room: string | null): Promise<void> {
    find(who, id, room);
    const row = (await opts.queue.cancel(id))!;
    if (isFinal(row.state) && row.state !== 'cancelled') throw new HttpError('CONFLICT', `the command already finished (${row.state})`);
    sendJson(res, isFinal(row.state) ? 200 : 202, view(row));
  }

  async function respond(res: ServerResponse, row: CommandRow, ms: number, headers: Record<string, string> = {}): Promise<void> {
    if (ms > 0 && !isFinal(row.state)) {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      row = (await opts.queue.wait(row.id, ms, gone.signal)) ?? row;
      if (res.destroyed) return;
    }
    sendJson(res, isFinal(row.state) ? 200 : 202, view(row), headers);
  }

  /** A command by id; a room scopes the look-up, and an id from another room is as unknown as a made-up one. */
  function find(who: ApiPrincipal, id: string, room: string | null): CommandRow {
    const row = UUID_RE.test(id) ? opts.queue.get(id) : undefined;
    if (!row || (room !== null && row.room !== room) || !who.mayUseRoom(row.room)) throw new HttpError('NOT_FOUND', 'no such command');
    return row;
  }

  /** The room exists and `who` may use it; for 'write' (new commands) it is not archived either. */
  function checkRoom(who: ApiPrincipal, room: string, use: 'read' | 'write' = 'read'): void {
    if (!ROOM_ID_RE.test(room)) throw new HttpError('BAD_ROOM_ID', 'room ids are lowercase letters, digits and dashes');
    if (!opts.roomExists(room) || !who.mayUseRoom(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
    if (use === 'write' && opts.rooms?.get(room)?.archivedAt) throw new HttpError('FORBIDDEN', `room ${room} is archived: unarchive it to run commands`);
  }
}

/** One room of a batch: its command, or why it did not get one. */
interface BatchItem {
  room: string;
  row?: CommandRow;
  error?: { code: ErrorCode; message: string };
}

/** The seed's response shape, plus our precise `state` and a few useful extras. */
export function view(row: CommandRow, withOutput = true) {
  const common = {
    success: true,
    commandId: row.id,
    id: row.id,
    room: row.room,
    cmd: row.cmd,
    state: row.state,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
  if (!isFinal(row.state)) {
    const pending = row.state === 'queued';
    return {
      ...common,
      status: pending ? 'pending' : 'running',
      message: `${pending ? 'queued' : 'running'}; poll GET /api/commands/${row.id} for the result`,
    };
  }
  return {
    ...common,
    // The seed's meaning: completed = exit 0, error = anything else.
    status: row.state === 'done' && row.exitCode === 0 ? 'completed' : 'error',
    exitCode: row.exitCode,
    ...(withOutput ? { output: row.output } : {}),
    truncated: row.truncated,
    error: row.error,
  };
}

/** An oversized command is 413, like an oversized body, before the schema calls it anything else. */
function checkCmdSize(cmd: unknown): void {
  if (typeof cmd === 'string' && Buffer.byteLength(cmd, 'utf8') > MAX_CMD_BYTES) throw new HttpError('TOO_LARGE', `cmd is over ${MAX_CMD_BYTES} bytes`);
}

function idempotencyKey(req: IncomingMessage): string | undefined {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' ? key : undefined;
}

/** The query string as an object, for a query schema (a repeated key: its last value). */
function query(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams);
}
