import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TAB_ID_RE } from '../../lib/shared/protocol';
import { HttpError } from '../http/errors';
import { parse } from '../http/validate';
import type { RequestContext } from '../http/router';
import { readBuffer, sendJson } from '../http/json';
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

/** Query parameters of the recording routes (also the source of their OpenAPI description, recordingDocs.ts). */
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

/**
 * GET /api/rooms/:id/recordings[/:tab[/seek|/events|/marks|/search|/export.cast]] and
 * POST /api/recordings/import, one handler per route of the route table (server/http/routes.ts).
 * Seeking reads the keyframe at or before the time and the events from it (at most a keyframe
 * interval), never the recording from its start.
 */
export function createRecordingHandlers(d: RecordingRouteDeps) {
  /** The room (after the caller's access was checked) and its terminals' recordings. */
  const roomOf = async (ctx: RequestContext) => {
    const roomId = ctx.params.id;
    await d.authorize(ctx.req, roomId);
    const room = d.room(roomId);
    if (!room) throw new HttpError('ROOM_NOT_FOUND', `no room ${roomId}`);
    return { room, logs: d.recorder.logs(roomId) };
  };
  const terminal = async (ctx: RequestContext) => {
    const { room, logs } = await roomOf(ctx);
    const tab = ctx.params.tab;
    const log = TAB_ID_RE.test(tab) ? logs.get(tab) : undefined;
    if (!log) throw new HttpError('NOT_FOUND', `no recording of terminal ${tab} in this room`);
    return { room, tab, log, q: Object.fromEntries(ctx.url.searchParams) };
  };

  return {
    list: async (ctx: RequestContext) => {
      const { room, logs } = await roomOf(ctx);
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
      sendJson(ctx.res, 200, { room: { id: room.id, name: room.name, replayOnly: room.replayOnly, recordInput: room.recordInput }, terminals });
    },
    terminal: async (ctx: RequestContext) => sendJson(ctx.res, 200, info((await terminal(ctx)).log)),
    seek: async (ctx: RequestContext) => {
      const { log, q } = await terminal(ctx);
      const { t } = parse(seekQuerySchema, q);
      const s = log.seek(t);
      sendJson(ctx.res, 200, { t, keyframe: s.keyframe, events: s.events.map(plainEvent), next: cursorText(s.next), ...info(log) });
    },
    events: async (ctx: RequestContext) => {
      const { log, q } = await terminal(ctx);
      const c = parse(eventsQuerySchema, q);
      const [seg, off] = c.cursor.split(':').map(Number);
      const r = log.readRange({ seg, off }, c.maxBytes);
      sendJson(ctx.res, 200, { events: r.events.map(plainEvent), next: cursorText(r.next) });
    },
    marks: async (ctx: RequestContext) => {
      const { log } = await terminal(ctx);
      const marks = log.scan(',"m",', MAX_MARKS, (e) => e.code === 'm');
      sendJson(ctx.res, 200, { marks: marks.map(markView) });
    },
    search: async (ctx: RequestContext) => {
      const { log, q } = await terminal(ctx);
      const { q: text } = parse(searchQuerySchema, q);
      const needle = JSON.stringify(text).slice(1, -1);
      const hits = log.scan(needle, MAX_SEARCH_RESULTS, (e) => e.code === 'o' && plainText(e.data).includes(text));
      sendJson(ctx.res, 200, { q: text, results: hits.map((e) => ({ t: e.t, text: excerpt(plainText(e.data), text) })) });
    },
    exportCast: async (ctx: RequestContext) => {
      const { room, tab, log } = await terminal(ctx);
      ctx.res.writeHead(200, {
        'content-type': 'application/x-asciicast; charset=utf-8',
        'content-disposition': `attachment; filename="${room.id}-${tab}.cast"`,
        'cache-control': 'no-store',
      });
      for (const chunk of exportCast(log)) if (!ctx.res.write(chunk)) await new Promise((r) => ctx.res.once('drain', r));
      ctx.res.end();
    },
    importCast: async ({ req, res, url }: RequestContext) => {
      // Not a type a cross-site form can send: a page elsewhere cannot import into someone's account.
      if (!/^application\/x-asciicast\b/i.test(String(req.headers['content-type'] ?? '')))
        throw new HttpError('UNSUPPORTED_MEDIA', 'send the .cast file as the body with content-type: application/x-asciicast');
      const origin = req.headers.origin;
      if (origin && origin !== d.publicOrigin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
        throw new HttpError('FORBIDDEN', `requests from ${origin} are not allowed`);
      const body = await readBuffer(req, MAX_IMPORT_CAST_BYTES, { message: `a .cast file may be at most ${MAX_IMPORT_CAST_BYTES / 2 ** 20} MiB` });
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
    },
  };
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
