import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandRow } from '../../drizzle/schema';
import { TandemError, errorBody, type ErrorCode } from '../../lib/errors';
import { ROOM_ID_RE } from '../../lib/protocol';
import { readBody, sendJson } from '../http/json';
import { DEFAULT_ROOM } from '../rooms/RoomStore';
import {
  MAX_CMD_BYTES,
  MAX_COMMAND_TIMEOUT_MS,
  MIN_COMMAND_TIMEOUT_MS,
  isFinal,
  type CommandQueue,
} from './CommandQueue';
import { openApiDocument } from './openapi';

/** How long POST /api holds the request open for the command to finish before answering 202. */
export const API_WAIT_MS = 60_000;
export const MAX_API_BODY_BYTES = 64 * 1024;
export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  BAD_MESSAGE: 400,
  BAD_ROOM_ID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

class HttpError extends TandemError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** "true"/"false" and friends, as query strings and JSON bodies both spell them. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const createSchema = z.object({
  cmd: z.string({ error: 'cmd is required (a string)' }).refine((s) => s.trim() !== '', 'cmd is required (a string)'),
  room: z.string().max(200).default(DEFAULT_ROOM),
  timeoutMs: z.coerce
    .number()
    .int()
    .min(MIN_COMMAND_TIMEOUT_MS)
    .max(MAX_COMMAND_TIMEOUT_MS, `timeoutMs is at most ${MAX_COMMAND_TIMEOUT_MS}`)
    .optional(),
  wait: flag.default(true),
});

export interface ApiOptions {
  queue: CommandQueue;
  roomExists(id: string): boolean;
  /** Unset: the API answers 503 (it is off). */
  apiKey: string | undefined;
  log: Logger;
  waitMs?: number;
}

/**
 * The seed-compatible command API (design.md, "HTTP contracts"): POST /api runs a command in a
 * room's terminal and answers with its output; GET /api, /api/commands/:id read results; DELETE
 * cancels. Returns a handler that answers its own paths and returns false for anything else.
 */
export function createApiHandler(opts: ApiOptions): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const waitMs = opts.waitMs ?? API_WAIT_MS;
  const keyDigest = opts.apiKey ? sha256(opts.apiKey) : null;

  return (req, res, url) => {
    const p = url.pathname;
    if (p === '/api/openapi.json') {
      if (req.method === 'GET') sendJson(res, 200, openApiDocument, { 'cache-control': 'public, max-age=300' });
      else fail(res, new HttpError('METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' }));
      return true;
    }
    const commandPath = /^\/api\/commands\/([^/]*)(\/cancel)?\/?$/.exec(p);
    if (p !== '/api' && p !== '/api/' && !p.startsWith('/api/commands')) return false;
    void route(req, res, url, commandPath).catch((e) => {
      if (!(e instanceof TandemError)) opts.log.error({ err: e, path: p }, 'command API failed');
      fail(res, e);
    });
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, commandPath: RegExpExecArray | null): Promise<void> {
    authorize(req, url);
    const method = req.method ?? 'GET';
    if (!commandPath) {
      if (url.pathname.startsWith('/api/commands')) throw new HttpError('NOT_FOUND', 'no such command');
      if (method === 'POST') return create(req, res, url);
      if (method === 'GET') return url.searchParams.has('commandId') ? show(res, url, url.searchParams.get('commandId')!) : list(res, url);
      throw new HttpError('METHOD_NOT_ALLOWED', 'use GET or POST', { allow: 'GET, POST' });
    }
    const id = decodeSegment(commandPath[1]);
    if (commandPath[2]) {
      if (method !== 'POST') throw new HttpError('METHOD_NOT_ALLOWED', 'use POST', { allow: 'POST' });
      return cancel(res, url, id);
    }
    if (method === 'GET') return show(res, url, id);
    if (method === 'DELETE') return cancel(res, url, id);
    throw new HttpError('METHOD_NOT_ALLOWED', 'use GET or DELETE', { allow: 'GET, DELETE' });
  }

  function authorize(req: IncomingMessage, url: URL): void {
    if (!keyDigest) throw new HttpError('UNAVAILABLE', 'the command API is off: the server has no API_KEY set');
    const auth = req.headers.authorization;
    const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    const header = req.headers['x-api-key'];
    const given = url.searchParams.get('api_key') ?? bearer ?? (typeof header === 'string' ? header : undefined);
    const challenge = { 'www-authenticate': 'Bearer' };
    if (!given) throw new HttpError('UNAUTHORIZED', 'an API key is required: ?api_key=KEY or Authorization: Bearer KEY', challenge);
    // Equal-length digests, compared in constant time: neither the key nor its length leaks.
    if (!crypto.timingSafeEqual(sha256(given), keyDigest)) throw new HttpError('UNAUTHORIZED', 'wrong API key', challenge);
  }

  async function create(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readJsonObject(req);
    const q = url.searchParams;
    const input = {
      cmd: body.cmd ?? q.get('cmd') ?? undefined,
      room: body.room ?? q.get('room') ?? undefined,
      timeoutMs: body.timeoutMs ?? q.get('timeoutMs') ?? undefined,
      wait: body.wait ?? q.get('wait') ?? undefined,
    };
    if (typeof input.cmd === 'string' && Buffer.byteLength(input.cmd, 'utf8') > MAX_CMD_BYTES)
      throw new HttpError('TOO_LARGE', `cmd is over ${MAX_CMD_BYTES} bytes`);
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError('BAD_MESSAGE', issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
    }
    const { cmd, room, timeoutMs, wait } = parsed.data;
    checkRoom(room);
    const key = req.headers['idempotency-key'];
    const { command, created } = opts.queue.enqueue({ room, cmd, timeoutMs, idempotencyKey: typeof key === 'string' ? key : undefined });
    const headers: Record<string, string> = created ? {} : { 'idempotent-replayed': 'true' };
    await respond(res, command, wait, headers);
  }

  async function show(res: ServerResponse, url: URL, id: string): Promise<void> {
    const row = find(url, id);
    const wait = flag.safeParse(url.searchParams.get('wait') ?? 'false');
    await respond(res, row, wait.success && wait.data);
  }

  function list(res: ServerResponse, url: URL): void {
    const room = url.searchParams.get('room') ?? undefined;
    if (room !== undefined) checkRoom(room);
    const limit = Number(url.searchParams.get('limit') ?? DEFAULT_LIST_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new HttpError('BAD_MESSAGE', `limit is 1 to ${MAX_LIST_LIMIT}`);
    const rows = opts.queue.list({ room, limit });
    // Outputs can be a MiB each: the list leaves them out; fetch one command for its output.
    sendJson(res, 200, { success: true, commands: rows.map((r) => view(r, false)) });
  }

  async function cancel(res: ServerResponse, url: URL, id: string): Promise<void> {
    find(url, id);
    const row = (await opts.queue.cancel(id))!;
    if (isFinal(row.state) && row.state !== 'cancelled') throw new HttpError('CONFLICT', `the command already finished (${row.state})`);
    sendJson(res, isFinal(row.state) ? 200 : 202, view(row));
  }

  async function respond(res: ServerResponse, row: CommandRow, wait: boolean, headers: Record<string, string> = {}): Promise<void> {
    if (wait && !isFinal(row.state)) {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      row = (await opts.queue.wait(row.id, waitMs, gone.signal)) ?? row;
      if (res.destroyed) return;
    }
    sendJson(res, isFinal(row.state) ? 200 : 202, view(row), headers);
  }

  /** A command by id; ?room= scopes the look-up, and an id from another room is as unknown as a made-up one. */
  function find(url: URL, id: string): CommandRow {
    const row = UUID_RE.test(id) ? opts.queue.get(id) : undefined;
    const room = url.searchParams.get('room');
    if (!row || (room !== null && row.room !== room)) throw new HttpError('NOT_FOUND', 'no such command');
    return row;
  }

  function checkRoom(room: string): void {
    if (!ROOM_ID_RE.test(room)) throw new HttpError('BAD_ROOM_ID', 'room ids are lowercase letters, digits and dashes');
    if (!opts.roomExists(room)) throw new HttpError('ROOM_NOT_FOUND', `no room ${room}`);
  }
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

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}

/** The request body as a JSON object; an empty body is {} (the command may come as ?cmd=). */
async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const tooLarge = new HttpError('TOO_LARGE', `request body is over ${MAX_API_BODY_BYTES} bytes`, { connection: 'close' });
  if (Number(req.headers['content-length'] ?? 0) > MAX_API_BODY_BYTES) throw tooLarge;
  let text: string;
  try {
    text = await readBody(req, MAX_API_BODY_BYTES);
  } catch (e) {
    if ((e as { code?: string }).code === 'TOO_LARGE') throw tooLarge;
    throw e;
  }
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError('BAD_MESSAGE', 'the request body is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError('BAD_MESSAGE', 'the request body must be a JSON object');
  return data as Record<string, unknown>;
}

function fail(res: ServerResponse, e: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const code: ErrorCode = e instanceof TandemError ? e.code : 'INTERNAL';
  const message = e instanceof TandemError ? e.message : 'internal error';
  sendJson(res, STATUS_OF[code] ?? 500, errorBody(code, message), e instanceof HttpError ? e.headers : {});
}
