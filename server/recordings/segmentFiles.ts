import fs from 'node:fs';
import path from 'node:path';
import { decodeEvent, type CastEvent } from './castEvents';

/**
 * Reading a terminal's recorded segment files (TabLog writes them): events from a cursor, and a
 * byte-level scan for search and marks. Readers never load more than a window of a segment at once,
 * except the scan, which reads one whole segment (≤ SEGMENT_BYTES) at a time.
 */

/** The longest single line a reader accepts (an output frame is ≤ 64 KiB, ≤ 6 bytes each once JSON-escaped). */
const MAX_LINE_BYTES = 512 * 1024;

export interface Segment {
  n: number;
  bytes: number;
  kfBytes: number;
  headerBytes: number;
  firstT: number;
}
export interface Cursor {
  seg: number;
  off: number;
}

export const segName = (n: number) => String(n).padStart(6, '0');

/**
 * Events from `cursor` on, at most about `maxBytes` of lines (at least one), stopping before the
 * first event later than `untilT`. `next` is where to continue; null at the end of the recording.
 */
export function readEvents(dir: string, segs: readonly Segment[], cursor: Cursor, maxBytes: number, untilT = Infinity): { events: CastEvent[]; next: Cursor | null } {
  const events: CastEvent[] = [];
  let { seg: n, off } = cursor;
  let read = 0;
  for (;;) {
    const i = segs.findIndex((s) => s.n === n);
    if (i < 0) return { events, next: null };
    const seg = segs[i];
    if (off < seg.headerBytes) off = seg.headerBytes;
    const fd = fs.openSync(path.join(dir, `${segName(n)}.cast`), 'r');
    try {
      while (off < seg.bytes) {
        const want = Math.min(seg.bytes - off, Math.max(64 * 1024, Math.min(maxBytes - read, 4 * 1024 * 1024)) + MAX_LINE_BYTES);
        const buf = Buffer.allocUnsafe(want);
        const got = fs.readSync(fd, buf, 0, want, off);
        let at = 0;
        while (at < got) {
          const end = buf.indexOf(0x0a, at);
          if (end < 0 || end >= got) break;
          const e = decodeEvent(buf.subarray(at, end).toString('utf8'));
          if (e && e.t > untilT) return { events, next: { seg: n, off: off + at } };
          if (e) events.push(e);
          read += end + 1 - at;
          at = end + 1;
          if (read >= maxBytes) return { events, next: { seg: n, off: off + at } };
        }
        if (at === 0) {
          off = seg.bytes; // a torn last line (the process died mid-write): nothing more here
          break;
        }
        off += at;
      }
    } finally {
      fs.closeSync(fd);
    }
    const nextSeg = segs[i + 1];
    if (!nextSeg) return { events, next: null };
    n = nextSeg.n;
    off = 0;
  }
}

/**
 * Events whose stored line contains `needle` (as bytes: a fast pre-filter over whole segments),
 * in order, at most `max`. Marks are found by their code, text by its JSON-escaped form.
 */
export function scanSegments(dir: string, segs: readonly Segment[], needle: string, max: number, accept: (e: CastEvent) => boolean): CastEvent[] {
  const out: CastEvent[] = [];
  const pat = Buffer.from(needle);
  for (const seg of segs) {
    const buf = fs.readFileSync(path.join(dir, `${segName(seg.n)}.cast`));
    let at = buf.indexOf(pat, seg.headerBytes);
    while (at >= 0) {
      const start = buf.lastIndexOf(0x0a, at) + 1;
      const end = buf.indexOf(0x0a, at);
      if (end < 0) break;
      const e = decodeEvent(buf.subarray(start, end).toString('utf8'));
      if (e && accept(e)) {
        out.push(e);
        if (out.length >= max) return out;
      }
      at = buf.indexOf(pat, end + 1);
    }
  }
  return out;
}

/** Up to `len` bytes of a file from `off`. */
export function readAt(file: string, off: number, len: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(len);
    return buf.subarray(0, fs.readSync(fd, buf, 0, len, off));
  } finally {
    fs.closeSync(fd);
  }
}
