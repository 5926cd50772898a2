import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandRow } from '../../drizzle/schema';
import { TandemError, type ErrorCode } from '../../lib/shared/errors';
import { ROOM_ID_RE } from '../../lib/shared/protocol';
import { readJsonObject, sendJson } from '../http/json';
import { DEFAULT_ROOM } from '../rooms/RoomStore';
import {
  MAX_CMD_BYTES,
  MAX_COMMAND_TIMEOUT_MS,
  MAX_IDEMPOTENCY_KEY_CHARS,
  MIN_COMMAND_TIMEOUT_MS,
  isFinal,
  type CommandQueue,
} from './CommandQueue';
import { apiKeyAuthenticator, type ApiAuthenticator, type ApiPrincipal } from './apiAuth';
import { HttpError, sendHttpError } from './HttpError';
import { openApiDocument } from './openapi';
import {
  API_WAIT_MS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_ROOM_LIST_LIMIT,
  MAX_API_BODY_BYTES,
  MAX_BATCH_ROOMS,
  MAX_LIST_LIMIT,
  MAX_ROOM_LIST_LIMIT,
  MIN_API_WAIT_MS,
} from './apiCaps';

export * from './apiCaps';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** "true"/"false" and friends, as query strings and JSON bodies both spell them. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const cmdSchema = z.string({ error: 'cmd is required (a string)' }).refine((s) => s.trim() !== '', 'cmd is required (a string)');
const timeoutSchema = z.coerce
  .number()
  .int()
  .min(MIN_COMMAND_TIMEOUT_MS)
  .max(MAX_COMMAND_TIMEOUT_MS, `timeoutMs is at most ${MAX_COMMAND_TIMEOUT_MS}`)
  .optional();

const createSchema = z.object({
  cmd: cmdSchema,
  room: z.string().max(200).default(DEFAULT_ROOM),
  timeoutMs: timeoutSchema,
  wait: flag.default(true),
});

const batchSchema = z.object({
  rooms: z
    .array(z.string({ error: 'room ids are strings' }).max(200), { error: 'rooms is required (an array of room ids)' })
    .min(1, 'rooms needs at least one room id')
    .max(MAX_BATCH_ROOMS, `rooms holds at most ${MAX_BATCH_ROOMS} room ids`)
    .refine((ids) => new Set(ids).size === ids.length, 'rooms has a room id twice'),
  cmd: cmdSchema,
  timeoutMs: timeoutSchema,
  wait: flag.default(true),
});

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

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/**
 * The command API (design.md, "HTTP contracts"). The seed-compatible dialect: POST /api runs a
 * command in a room's terminal and answers with its output; GET /api, /api/commands/:id read
 * results; DELETE cancels. The instructor endpoints: GET /api/rooms, /api/rooms/:id/commands[/:cid]
 * and POST /api/commands/batch (one command in many rooms). Returns a handler that answers its own
 * paths and returns false for anything else.
 */
export function createApiHandler(opts: ApiOptions): Handler {
  const waitMs = opts.waitMs ?? API_WAIT_MS;
  const authenticate = opts.authenticate ?? apiKeyAuthenticator(opts.apiKey);

  return (req, res, url) => {
    const p = url.pathname;
    if (p === '/api/openapi.json') {
      if (req.method === 'GET') sendJson(res, 200, openApiDocument, { 'cache-control': 'public, max-age=300' });
      else sendHttpError(res, new HttpError('METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' }));
      return true;
    }
    if (p !== '/api' && p !== '/api/' && !p.startsWith('/api/commands') && p !== '/api/rooms' && !p.startsWith('/api/rooms/')) return false;
    void route(req, res, url).catch((e) => {
      if (!(e instanceof TandemError)) opts.log.error({ err: e, path: p }, 'command API failed');
      sendHttpError(res, e);
    });
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const who = authenticate(req, url);
    const method = req.method ?? 'GET';
    const p = url.pathname;
    let m: RegExpExecArray | null;

    if (p === '/api' || p === '/api/') {
      if (method === 'POST') return create(req, res, url, who);
      if (method === 'GET') {
        if (!url.searchParams.has('commandId')) return list(res, url, who, url.searchParams.get('room'));
        return show(res, url, who, url.searchParams.get('commandId')!, url.searchParams.get('room'));
      }
      throw methodNotAllowed('GET, POST');
    }
    if (p === '/api/commands/batch' || p === '/api/commands/batch/') {
      if (method !== 'POST') throw methodNotAllowed('POST');
      return batch(req, res, url, who);
    }
    if ((m = /^\/api\/commands\/([^/]*)(\/cancel)?\/?$/.exec(p))) {
      const id = decodeSegment(m[1]);
      const room = url.searchParams.get('room');
      if (m[2]) {
        if (method !== 'POST') throw methodNotAllowed('POST');
        return cancel(res, who, id, room);
      }
      if (method === 'GET') return show(res, url, who, id, room);
      if (method === 'DELETE') return cancel(res, who, id, room);
      throw methodNotAllowed('GET, DELETE');
    }
    if (p.startsWith('/api/commands')) throw new HttpError('NOT_FOUND', 'no such command');

    if (p === '/api/rooms' || p === '/api/rooms/') {
      if (method !== 'GET') throw methodNotAllowed('GET');
      return listRooms(res, url, who);
    }
    if ((m = /^\/api\/rooms\/([^/]+)(\/commands(?:\/([^/]*))?)?\/?$/.exec(p))) {
      const room = decodeSegment(m[1]);
      checkRoom(who, room);
      if (!m[2]) {
        if (method !== 'GET') throw methodNotAllowed('GET');
        const row = opts.rooms?.get(room);
        if (!row) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
        return sendJson(res, 200, { success: true, room: roomView(row) });
      }
      if (!m[3]) {
        if (method === 'POST') return create(req, res, url, who, room);
        if (method === 'GET') return list(res, url, who, room);
        throw methodNotAllowed('GET, POST');
      }
      const id = decodeSegment(m[3]);
      if (method === 'GET') return show(res, url, who, id, room);
      if (method === 'DELETE') return cancel(res, who, id, room);
      throw methodNotAllowed('GET, DELETE');
    }
    throw new HttpError('NOT_FOUND', `no route ${p}`);
  }

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
    const row = find(who, id, room);
    const wait = flag.safeParse(url.searchParams.get('wait') ?? 'false');
    await respond(res, row, wait.success && wait.data ? requestedWait(url) : 0);
  }

  function list(res: ServerResponse, url: URL, who: ApiPrincipal, room: string | null): void {
    if (room !== null) checkRoom(who, room);
    const limit = intParam(url, 'limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT);
    // A token's rooms filter the query itself, so a limit counts only commands it may see.
    const rows = opts.queue.list({ room: room ?? undefined, rooms: who.roomIds() ?? undefined, limit });
    // Outputs can be a MiB each: the list leaves them out; fetch one command for its output.
    sendJson(res, 200, { success: true, commands: rows.map((r) => view(r, false)) });
  }

  function listRooms(res: ServerResponse, url: URL, who: ApiPrincipal): void {
    if (!opts.rooms) throw new HttpError('NOT_FOUND', 'this server does not list rooms');
    const limit = intParam(url, 'limit', DEFAULT_ROOM_LIST_LIMIT, 1, MAX_ROOM_LIST_LIMIT);
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

  /** `?waitMs=` shortens a long poll (a page following many commands keeps its connections turning over). */
  function requestedWait(url: URL): number {
    if (!url.searchParams.has('waitMs')) return waitMs;
    return Math.min(intParam(url, 'waitMs', waitMs, MIN_API_WAIT_MS, API_WAIT_MS), waitMs);
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

function methodNotAllowed(allow: string): HttpError {
  return new HttpError('METHOD_NOT_ALLOWED', `use ${allow.replace(', ', ' or ')}`, { allow });
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new HttpError('BAD_MESSAGE', issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
}

/** An oversized command is 413, like an oversized body, before the schema calls it anything else. */
function checkCmdSize(cmd: unknown): void {
  if (typeof cmd === 'string' && Buffer.byteLength(cmd, 'utf8') > MAX_CMD_BYTES) throw new HttpError('TOO_LARGE', `cmd is over ${MAX_CMD_BYTES} bytes`);
}

function idempotencyKey(req: IncomingMessage): string | undefined {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' ? key : undefined;
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  const n = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError('BAD_MESSAGE', `${name} is an integer from ${min} to ${max}`);
  return n;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}

/** The request body as a JSON object; an empty body is {} (the command may come as ?cmd=). */
