import fs from 'node:fs';
import path from 'node:path';
import { TerminalMirror } from '../relay/TerminalMirror';
import { encodeEvent, type CastEvent, type OutputEvent } from './castEvents';
import { readAt, readEvents, scanSegments, segName, type Cursor, type Segment } from './segmentFiles';

export type { Cursor } from './segmentFiles';

/** A segment file closes at this size and a new one starts (retention and the size cap drop whole segments). */
export const SEGMENT_BYTES = 4 * 1024 * 1024;
/** A keyframe (the serialized screen) after this many bytes of events: a seek reads at most this much after one. */
export const KEYFRAME_EVERY_BYTES = 256 * 1024;
/** History lines a keyframe keeps above the screen (replay after a seek scrolls back this far). */
export const KEYFRAME_SCROLLBACK_LINES = 200;
/** Frames kept in memory for guests that reconnect and resume from their last sequence number. */
export const MAX_TAIL_BYTES = 1024 * 1024;

export interface Keyframe {
  t: number;
  seq: number;
  hostSeq: number;
  cols: number;
  rows: number;
  /** Serialized screen (write it into an empty terminal). */
  data: string;
}
interface KfIndex {
  seg: number;
  t: number;
  /** Byte offset in the segment of the first event after the keyframe. */
  off: number;
  kfOff: number;
  kfLen: number;
}
export interface TabMeta {
  tab: string;
  title: string;
  closed: boolean;
}

/**
 * One terminal's recording: append-only segment files of asciicast-compatible event lines
 * (`NNNNNN.cast`, each starting with an asciicast v2 header), a keyframe file per segment
 * (`NNNNNN.kf`: serialized screens with the offset of the event after them) and a headless
 * terminal that produces the keyframes. Writes go to the OS at once (a killed process loses
 * nothing); `sync()` makes them durable and is called at most once a second.
 */
export class TabLog {
  private segs: Segment[] = [];
  private kfs: KfIndex[] = [];
  private fd: number | null = null;
  private kfFd: number | null = null;
  private dirty = false;
  private sinceKf = 0;
  private term: TerminalMirror;
  /** Recent output frames, for resuming guests. */
  private tail: OutputEvent[] = [];
  private tailBytes = 0;
  /** Keyframes being serialized (they finish asynchronously). */
  private pending = new Set<Promise<unknown>>();
  private closed = false;
  lastT = 0;
  lastSeq = 0;
  lastHostSeq = 0;
  meta: TabMeta;

  private constructor(
    readonly dir: string,
    meta: TabMeta,
    private opts: { segmentBytes: number; keyframeEveryBytes: number; onBytes: (delta: number) => void; onError?: (err: unknown) => void },
    public cols = 80,
    public rows = 24,
  ) {
    this.meta = meta;
    this.term = new TerminalMirror(cols, rows);
  }

  static create(dir: string, meta: TabMeta, opts: TabLog['opts'], cols = 80, rows = 24): TabLog {
    fs.mkdirSync(dir, { recursive: true });
    const log = new TabLog(dir, meta, opts, cols, rows);
    log.writeMeta();
    return log;
  }

  /**
   * Loads a recording from disk: the segment list and keyframe index, then the last keyframe and
   * the events after it into the headless terminal, so recording continues where it stopped.
   * Returns the text to write into a fresh mirror to get the same screen (the relay's restore).
   */
  static open(dir: string, opts: TabLog['opts']): { log: TabLog; replay: string[] } | null {
    let meta: TabMeta;
    try {
      meta = JSON.parse(fs.readFileSync(path.join(dir, 'tab.json'), 'utf8')) as TabMeta;
    } catch {
      return null;
    }
    const log = new TabLog(dir, meta, opts);
    const nums = fs
      .readdirSync(dir)
      .filter((f) => /^\d{6}\.cast$/.test(f))
      .map((f) => Number(f.slice(0, 6)))
      .sort((a, b) => a - b);
    for (const n of nums) log.loadSegment(n);
    const replay: string[] = [];
    const last = log.segs.at(-1);
    if (last) {
      const kf = [...log.kfs].reverse().find((k) => k.seg === last.n);
      const from = kf ? kf.off : last.headerBytes;
      if (kf) {
        const k = log.readKeyframe(kf);
        log.cols = k.cols;
        log.rows = k.rows;
        log.term.resize(k.cols, k.rows);
        log.term.write(k.data, k.seq);
        replay.push(k.data);
        log.lastSeq = k.seq;
        log.lastHostSeq = k.hostSeq;
        log.lastT = k.t;
      }
      for (const e of log.readRange({ seg: last.n, off: from }, Infinity).events) {
        log.lastT = e.t;
        if (e.code === 'o') {
          log.term.write(e.data, e.seq);
          replay.push(e.data);
          log.lastSeq = e.seq;
          log.lastHostSeq = e.hostSeq;
          log.pushTail(e);
        } else if (e.code === 'r') {
          const [c, r] = e.data.split('x').map(Number);
          log.resizeTerm(c, r);
          replay.push(''); // keeps positions; the relay resizes from log.cols/rows
        }
      }
      log.sinceKf = last.bytes - from;
    }
    return { log, replay };
  }

  private loadSegment(n: number): void {
    const file = path.join(this.dir, `${segName(n)}.cast`);
    const bytes = fs.statSync(file).size;
    const head = readAt(file, 0, 4096);
    const nl = head.indexOf(0x0a);
    if (nl < 0) return; // a segment torn before its header was written: ignore it
    let firstT = 0;
    try {
      firstT = Number((JSON.parse(head.subarray(0, nl).toString('utf8')) as { tandem?: { t?: number } }).tandem?.t) || 0;
    } catch {
      return;
    }
    const seg: Segment = { n, bytes, kfBytes: 0, headerBytes: nl + 1, firstT };
    const kfFile = path.join(this.dir, `${segName(n)}.kf`);
    if (fs.existsSync(kfFile)) {
      const buf = fs.readFileSync(kfFile);
      seg.kfBytes = buf.length;
      let at = 0;
      while (at < buf.length) {
        const end = buf.indexOf(0x0a, at);
        if (end < 0) break; // torn last keyframe: unused
        try {
          const k = JSON.parse(buf.subarray(at, end).toString('utf8')) as Keyframe & { off: number };
          if (k.off <= bytes) this.kfs.push({ seg: n, t: k.t, off: k.off, kfOff: at, kfLen: end - at });
        } catch {
          /* a damaged keyframe is skipped; seeking uses the one before */
        }
        at = end + 1;
      }
    }
    this.segs.push(seg);
    this.lastT = Math.max(this.lastT, firstT);
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segs) n += s.bytes + s.kfBytes;
    return n;
  }

  get segments(): readonly Segment[] {
    return this.segs;
  }

  get firstT(): number {
    return this.segs[0]?.firstT ?? 0;
  }

  append(e: CastEvent): void {
    let seg = this.segs.at(-1);
    if (!seg || this.fd === null || seg.bytes >= this.opts.segmentBytes) seg = this.startSegment(e.t);
    const line = Buffer.from(encodeEvent(e) + '\n');
    fs.writeSync(this.fd!, line);
    seg.bytes += line.length;
    this.sinceKf += line.length;
    this.opts.onBytes(line.length);
    this.dirty = true;
    this.lastT = e.t;
    if (e.code === 'o') {
      this.term.write(e.data, e.seq);
      this.lastSeq = e.seq;
      this.lastHostSeq = e.hostSeq;
      this.pushTail(e);
    } else if (e.code === 'r') {
      const [c, r] = e.data.split('x').map(Number);
      this.resizeTerm(c, r);
    }
    if (this.sinceKf >= this.opts.keyframeEveryBytes) this.keyframe();
  }

  private resizeTerm(cols: number, rows: number): void {
    if (!(cols > 0 && rows > 0)) return;
    this.cols = cols;
    this.rows = rows;
    this.term.resize(cols, rows);
  }

  private startSegment(t: number): Segment {
    this.closeFds();
    const n = (this.segs.at(-1)?.n ?? 0) + 1;
    const header = Buffer.from(
      JSON.stringify({ version: 2, width: this.cols, height: this.rows, timestamp: Math.floor(Date.now() / 1000), title: this.meta.title, tandem: { tab: this.meta.tab, t } }) + '\n',
    );
    this.fd = fs.openSync(path.join(this.dir, `${segName(n)}.cast`), 'a');
    this.kfFd = fs.openSync(path.join(this.dir, `${segName(n)}.kf`), 'a');
    fs.writeSync(this.fd, header);
    const seg: Segment = { n, bytes: header.length, kfBytes: 0, headerBytes: header.length, firstT: t };
    this.segs.push(seg);
    this.opts.onBytes(header.length);
    // Every segment starts with the screen as it is, so it replays (and exports) on its own.
    this.keyframe();
    return seg;
  }

  /** Serializes the screen as of the last event appended, and indexes it at the current offset. */
  private keyframe(): void {
    const seg = this.segs.at(-1)!;
    const at = { seg: seg.n, t: this.lastT, off: seg.bytes, seq: this.lastSeq, hostSeq: this.lastHostSeq };
    this.sinceKf = 0;
    const p = this.term.snapshot(KEYFRAME_SCROLLBACK_LINES).then((snap) => {
      if (this.closed || !this.segs.includes(seg)) return; // closed, or dropped (size cap) meanwhile
      const line = Buffer.from(JSON.stringify({ t: at.t, seq: at.seq, hostSeq: at.hostSeq, off: at.off, cols: snap.cols, rows: snap.rows, data: snap.data }) + '\n');
      // A burst may close the segment before its keyframe is serialized: it still goes to that segment's file.
      if (this.kfFd !== null && this.segs.at(-1) === seg) fs.writeSync(this.kfFd, line);
      else fs.appendFileSync(path.join(this.dir, `${segName(seg.n)}.kf`), line);
      this.kfs.push({ seg: at.seg, t: at.t, off: at.off, kfOff: seg.kfBytes, kfLen: line.length - 1 });
      seg.kfBytes += line.length;
      this.opts.onBytes(line.length);
      this.dirty = true;
    });
    // A keyframe that cannot be written (disk full) costs seek precision, never the room.
    const done = p.catch((err: unknown) => this.opts.onError?.(err)).finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Resolves once every keyframe asked for so far is written. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private pushTail(e: OutputEvent): void {
    this.tail.push(e);
    this.tailBytes += e.data.length;
    while (this.tailBytes > MAX_TAIL_BYTES && this.tail.length > 1) this.tailBytes -= this.tail.shift()!.data.length;
  }

  /** Output frames after `seq` up to the last one, or null when they are no longer all in memory. */
  since(seq: number): OutputEvent[] | null {
    if (seq === this.lastSeq) return [];
    if (seq > this.lastSeq) return null;
    const first = this.tail[0];
    if (!first || first.seq > seq + 1) return null;
    return this.tail.filter((e) => e.seq > seq);
  }

  /** The screen at time `t`: the keyframe at or before it and the events from it up to `t`. */
  seek(t: number): { keyframe: Keyframe | null; events: CastEvent[]; next: Cursor | null } {
    let kf: KfIndex | undefined;
    for (const k of this.kfs) {
      if (k.t > t) break;
      kf = k;
    }
    kf ??= this.kfs[0];
    if (!kf) return { keyframe: null, events: [], next: null };
    const keyframe = this.readKeyframe(kf);
    const r = this.readRange({ seg: kf.seg, off: kf.off }, Infinity, t);
    return { keyframe, events: r.events, next: r.next };
  }

  /**
   * Events from `cursor` on, at most about `maxBytes` of lines (at least one), stopping before the
   * first event later than `untilT`. `next` is where to continue; null at the end of the recording.
   */
  readRange(cursor: Cursor, maxBytes: number, untilT = Infinity): { events: CastEvent[]; next: Cursor | null } {
    return readEvents(this.dir, this.segs, cursor, maxBytes, untilT);
  }

  /**
   * Events whose stored line contains `needle` (as bytes: a fast pre-filter over whole segments),
   * in order, at most `max`. Marks are found by their code, text by its JSON-escaped form.
   */
  scan(needle: string, max: number, accept: (e: CastEvent) => boolean): CastEvent[] {
    return scanSegments(this.dir, this.segs, needle, max, accept);
  }

  /** Where the recording starts (the first segment's first keyframe). */
  start(): { keyframe: Keyframe | null; cursor: Cursor | null } {
    const kf = this.kfs[0];
    return kf ? { keyframe: this.readKeyframe(kf), cursor: { seg: kf.seg, off: kf.off } } : { keyframe: null, cursor: null };
  }

  private readKeyframe(k: KfIndex): Keyframe {
    return JSON.parse(readAt(path.join(this.dir, `${segName(k.seg)}.kf`), k.kfOff, k.kfLen).toString('utf8')) as Keyframe;
  }

  /** Drops the oldest segment (never the one being written); returns the bytes freed. */
  dropOldest(): number {
    if (this.segs.length < 2) return 0;
    const seg = this.segs.shift()!;
    this.kfs = this.kfs.filter((k) => k.seg !== seg.n);
    fs.rmSync(path.join(this.dir, `${segName(seg.n)}.cast`), { force: true });
    fs.rmSync(path.join(this.dir, `${segName(seg.n)}.kf`), { force: true });
    return seg.bytes + seg.kfBytes;
  }

  /** Modification time of the oldest segment's last write (retention). */
  oldestMtimeMs(): number | null {
    const seg = this.segs[0];
    if (!seg || this.segs.length < 2) return null;
    try {
      return fs.statSync(path.join(this.dir, `${segName(seg.n)}.cast`)).mtimeMs;
    } catch {
      return null;
    }
  }

  writeMeta(): void {
    fs.writeFileSync(path.join(this.dir, 'tab.json'), JSON.stringify(this.meta));
  }

  /** Makes everything written so far durable (fsync). */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.fd !== null) fs.fsyncSync(this.fd);
    if (this.kfFd !== null) fs.fsyncSync(this.kfFd);
  }

  private closeFds(): void {
    if (this.fd !== null) {
      if (this.dirty) fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
    }
    if (this.kfFd !== null) {
      if (this.dirty) fs.fsyncSync(this.kfFd);
      fs.closeSync(this.kfFd);
    }
    this.fd = this.kfFd = null;
    this.dirty = false;
  }

  close(): void {
    this.closed = true;
    this.closeFds();
    this.term.dispose();
  }
}
