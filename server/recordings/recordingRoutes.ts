import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TandemError } from '../../lib/shared/errors';
import { TAB_ID_RE } from '../../lib/shared/protocol';
import { HttpError } from '../http/errors';
import { parse } from '../http/validate';
import type { RequestContext } from '../http/router';
import { sendHttpError, sendJson } from '../http/json';
import { plainEvent, type CastEvent } from './castEvents';
import { exportCast, MAX_IMPORT_CAST_BYTES, parseCast } from './asciicast';
import { plainText, type Recorder } from './Recorder';
import type { TabLog } from './TabLog';

/** A page of events for playback is at most this many bytes of stored lines. */
export const MAX_EVENTS_PAGE_BYTES = 1024 * 1024;
export const DEFAULT_EVENTS_PAGE_BYTES = 256 * 1024;
export const MAX_SEARCH_RESULTS = 200;
export const MAX_MARKS = 2000;
export const MAX_SEARCH_CHARS = 100;

/** Query parameters of the recording routes (also the source of their OpenAPI description). */
export const seekQuerySchema = z.object({ t: z.coerce.number().finite().nonnegative() });
export const eventsQuerySchema = z.object({
  cursor: z.string().regex(/^\d{1,9}:\d{1,12}$/, 'cursor is "segment:offset" as returned by seek or events'),
  maxBytes: z.coerce.number().int().min(1024).max(MAX_EVENTS_PAGE_BYTES).default(DEFAULT_EVENTS_PAGE_BYTES),
});
export const searchQuerySchema = z.object({ q: z.string().trim().min(1).max(MAX_SEARCH_CHARS) });

export interface RecordingRouteDeps {
  recorder: Recorder;
  /** Who may read a room's recordings: anyone with at least viewer rights (anyone, in an open room). Throws otherwise. */
  authorize(req: IncomingMessage, roomId: string): Promise<void>;
  room(roomId: string): { id: string; name: string; replayOnly: boolean; recordInput: boolean } | undefined;
  /** Makes the room an import lands in (members-only and owned when signed in, open otherwise). */
  createReplayRoom(req: IncomingMessage, name: string): Promise<{ id: string; name: string }>;
  deleteRoom(roomId: string): void;
  publicOrigin: string;
  log: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/**
 * GET /api/rooms/:id/recordings[/:tab[/seek|/events|/marks|/search|/export.cast]] and
 * POST /api/recordings/import. Seeking reads the keyframe at or before the time and the events from
 * it (at most a keyframe interval), never the recording from its start.
 */
export function createRecordingHandler(d: RecordingRouteDeps): Handler & { run: (ctx: RequestContext) => Promise<void> } {
  const handler: Handler = (req, res, url) => {
    const p = url.pathname.replace(/\/$/, '');
    if (p !== '/api/recordings/import' && !/^\/api\/rooms\/[^/]+\/recordings(\/|$)/.test(p)) return false;
    void route(req, res, url, p).catch((e) => {
      if (!(e instanceof TandemError)) d.log.error({ err: e, path: p }, 'recording route failed');
      sendHttpError(res, e);
    });
    return true;
  };
  // For the route table (server/http/routes.ts): it matched the path; errors go to its handling.
  return Object.assign(handler, { run: (ctx: RequestContext) => route(ctx.req, ctx.res, ctx.url, ctx.url.pathname.replace(/\/$/, '')) });

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, p: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (p === '/api/recordings/import') {
      if (method !== 'POST') throw new HttpError('METHOD_NOT_ALLOWED', 'use POST', { allow: 'POST' });
      return importCast(req, res, url);
    }
    if (method !== 'GET') throw new HttpError('METHOD_NOT_ALLOWED', 'use GET', { allow: 'GET' });
    const m = /^\/api\/rooms\/([^/]+)\/recordings(?:\/([^/]+)(?:\/(seek|events|marks|search|export\.cast))?)?$/.exec(p);
    if (!m) throw new HttpError('NOT_FOUND', `no route ${p}`);
    const roomId = decodeURIComponent(m[1]);
    await d.authorize(req, roomId);
    const room = d.room(roomId);
    if (!room) throw new HttpError('ROOM_NOT_FOUND', `no room ${roomId}`);
    const logs = d.recorder.logs(roomId);
    if (!m[2]) {
      const terminals = [...logs.values()].map((l) => ({
        tab: l.meta.tab,
        title: l.meta.title,
        open: !l.meta.closed,
        durationS: Math.max(0, l.lastT - l.firstT),
        startT: l.firstT,
        bytes: l.bytes,
        lastSeq: l.lastSeq,
        cols: l.cols,
        rows: l.rows,
      }));
      return sendJson(res, 200, { room: { id: room.id, name: room.name, replayOnly: room.replayOnly, recordInput: room.recordInput }, terminals });
    }
    const tab = decodeURIComponent(m[2]);
    const log = TAB_ID_RE.test(tab) ? logs.get(tab) : undefined;
    if (!log) throw new HttpError('NOT_FOUND', `no recording of terminal ${tab} in this room`);
    const q = Object.fromEntries(url.searchParams);
    switch (m[3]) {
      case undefined:
        return sendJson(res, 200, info(log));
      case 'seek': {
        const { t } = parse(seekQuerySchema, q);
        const s = log.seek(t);
        return sendJson(res, 200, { t, keyframe: s.keyframe, events: s.events.map(plainEvent), next: cursorText(s.next), ...info(log) });
      }
      case 'events': {
        const c = parse(eventsQuerySchema, q);
        const [seg, off] = c.cursor.split(':').map(Number);
        const r = log.readRange({ seg, off }, c.maxBytes);
        return sendJson(res, 200, { events: r.events.map(plainEvent), next: cursorText(r.next) });
      }
      case 'marks': {
        const marks = log.scan(',"m",', MAX_MARKS, (e) => e.code === 'm');
        return sendJson(res, 200, { marks: marks.map(markView) });
      }
      case 'search': {
        const { q: text } = parse(searchQuerySchema, q);
        const needle = JSON.stringify(text).slice(1, -1);
        const hits = log.scan(needle, MAX_SEARCH_RESULTS, (e) => e.code === 'o' && plainText(e.data).includes(text));
        return sendJson(res, 200, { q: text, results: hits.map((e) => ({ t: e.t, text: excerpt(plainText(e.data), text) })) });
      }
      case 'export.cast': {
        const name = `${room.id}-${tab}.cast`;
        res.writeHead(200, {
          'content-type': 'application/x-asciicast; charset=utf-8',
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
        });
        for (const chunk of exportCast(log)) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        res.end();
        return;
      }
    }
  }

  async function importCast(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Not a type a cross-site form can send: a page elsewhere cannot import into someone's account.
    if (!/^application\/x-asciicast\b/i.test(String(req.headers['content-type'] ?? '')))
      throw new HttpError('UNSUPPORTED_MEDIA', 'send the .cast file as the body with content-type: application/x-asciicast');
    const origin = req.headers.origin;
    if (origin && origin !== d.publicOrigin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
      throw new HttpError('FORBIDDEN', `requests from ${origin} are not allowed`);
    const body = await readCapped(req, MAX_IMPORT_CAST_BYTES);
    const cast = parseCast(body);
    const name = (url.searchParams.get('name') || cast.title || 'Imported recording').slice(0, 80);
    const room = await d.createReplayRoom(req, name);
    try {
      await d.recorder.write(room.id, name, cast.width, cast.height, cast.events);
    } catch (e) {
      d.recorder.forget(room.id);
      d.deleteRoom(room.id);
      throw e;
    }
    d.log.info({ room: room.id, events: cast.events.length, bytes: body.length }, 'recording imported');
    sendJson(res, 201, { room, url: `/r/${room.id}/replay` });
  }
}

function info(log: TabLog) {
  return { tab: log.meta.tab, title: log.meta.title, startT: log.firstT, endT: log.lastT, cols: log.cols, rows: log.rows };
}

function markView(e: CastEvent) {
  return e.code === 'm' ? { t: e.t, kind: e.kind, label: e.data, ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}) } : null;
}

function cursorText(c: { seg: number; off: number } | null): string | null {
  return c ? `${c.seg}:${c.off}` : null;
}

function excerpt(text: string, q: string): string {
  const i = text.indexOf(q);
  return text.slice(Math.max(0, i - 40), i + q.length + 40).replace(/\s+/g, ' ');
}


/** The body, refused as a whole (nothing kept) once it passes `max` bytes. */
async function readCapped(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = new HttpError('TOO_LARGE', `a .cast file may be at most ${max / 2 ** 20} MiB`, { connection: 'close' });
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw tooLarge;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
