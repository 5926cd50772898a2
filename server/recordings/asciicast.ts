import { z } from 'zod';
import { TandemError } from '../../lib/shared/errors';
import { roundT, type CastEvent } from './castEvents';
import type { Keyframe, TabLog } from './TabLog';

/** An imported .cast may be at most this large (it is parsed in memory before anything is stored). */
export const MAX_IMPORT_CAST_BYTES = 32 * 1024 * 1024;
/** An imported event's data is cut into frames of at most this many characters (the relay's own cap). */
const MAX_IMPORT_FRAME_CHARS = 64 * 1024;
/** Idle time a player skips, written into exports' headers (asciinema honours it). */
export const EXPORT_IDLE_TIME_LIMIT_S = 2;

const headerSchema = z.object({
  version: z.literal(2),
  width: z.number().int().min(2).max(500),
  height: z.number().int().min(1).max(300),
  timestamp: z.number().optional(),
  title: z.string().max(200).optional(),
});
const eventSchema = z.tuple([z.number().finite().nonnegative(), z.enum(['o', 'i', 'r', 'm']), z.string()]).rest(z.unknown());

export interface ParsedCast {
  width: number;
  height: number;
  title: string | null;
  events: CastEvent[];
}

function bad(message: string): TandemError {
  return new TandemError('BAD_RECORDING', message);
}

/**
 * Validates a whole asciicast v2 file and turns it into recording events. Anything else (another
 * format, a damaged or cut-off file, times that run backwards) is refused with a message that says
 * what and where; nothing is stored until the whole file has passed.
 */
export function parseCast(bytes: Buffer): ParsedCast {
  if (bytes.length === 0) throw bad('the file is empty');
  if (bytes.length > MAX_IMPORT_CAST_BYTES) throw new TandemError('TOO_LARGE', `a .cast file may be at most ${MAX_IMPORT_CAST_BYTES / 2 ** 20} MiB`);
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD') || text.includes('\u0000')) throw bad('not an asciicast file: it is not UTF-8 text');
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n');
  let header: unknown;
  try {
    header = JSON.parse(lines[0]);
  } catch {
    throw bad('not an asciicast file: the first line is not a JSON header');
  }
  if (typeof header === 'object' && header !== null && (header as { version?: unknown }).version === 3)
    throw bad('asciicast v3 is not supported: convert it with `asciinema convert -f asciicast-v2 in.cast out.cast`');
  const h = headerSchema.safeParse(header);
  if (!h.success) {
    const i = h.error.issues[0];
    throw bad(`not an asciicast v2 file: header ${i?.path.join('.') || ''} ${i?.message ?? 'invalid'}`.replace(/\s+/g, ' '));
  }
  const events: CastEvent[] = [];
  let seq = 0;
  let last = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      if (n === lines.length - 1 && !endsClean) throw bad(`the file is truncated: line ${n + 1} is incomplete`);
      throw bad(`line ${n + 1} is not JSON`);
    }
    const e = eventSchema.safeParse(raw);
    if (!e.success) throw bad(`line ${n + 1} is not an asciicast event ([time, "o"|"i"|"r"|"m", data])`);
    const [t0, code, data] = e.data;
    if (t0 < last) throw bad(`line ${n + 1}: time goes backwards (${t0} after ${last})`);
    last = t0;
    const t = roundT(t0);
    if (code === 'o') {
      for (let i = 0; i < data.length || i === 0; i += MAX_IMPORT_FRAME_CHARS) {
        seq += 1;
        events.push({ t, code, data: data.slice(i, i + MAX_IMPORT_FRAME_CHARS), seq, hostSeq: seq });
        if (data.length === 0) break;
      }
    } else if (code === 'r') {
      const m = /^(\d{1,3})x(\d{1,3})$/.exec(data);
      if (!m || Number(m[1]) < 2 || Number(m[1]) > 500 || Number(m[2]) < 1 || Number(m[2]) > 300) throw bad(`line ${n + 1}: a resize is "COLSxROWS"`);
      events.push({ t, code, data });
    } else if (code === 'i') events.push({ t, code, data: data.slice(0, 4096), by: { memberId: '', name: 'imported' } });
    else events.push({ t, code, data: data.slice(0, 200), kind: 'command' });
  }
  if (!events.length) throw bad('the recording has no events');
  return { width: h.data.width, height: h.data.height, title: h.data.title ?? null, events };
}

/**
 * A terminal's recording as one asciicast v2 file: a header, the screen as it was where the
 * recording starts (after retention, not necessarily empty), then every event with times from 0.
 */
export function* exportCast(log: TabLog): Generator<string> {
  const { keyframe, cursor } = log.start();
  const k: Keyframe = keyframe ?? { t: 0, seq: 0, hostSeq: 0, cols: log.cols, rows: log.rows, data: '' };
  yield JSON.stringify({
    version: 2,
    width: k.cols,
    height: k.rows,
    timestamp: Math.floor(Date.now() / 1000),
    title: log.meta.title,
    idle_time_limit: EXPORT_IDLE_TIME_LIMIT_S,
  }) + '\n';
  if (k.data) yield JSON.stringify([0, 'o', k.data]) + '\n';
  let at = cursor;
  while (at) {
    const r = log.readRange(at, 1024 * 1024);
    let out = '';
    for (const e of r.events) out += JSON.stringify([roundT(Math.max(0, e.t - k.t)), e.code, e.data]) + '\n';
    if (out) yield out;
    at = r.next;
  }
}
