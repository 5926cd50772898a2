import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ShellIntegration } from '../../lib/shared/ShellIntegration';
import { DEFAULT_TAB, ROOM_ID_RE, TAB_ID_RE } from '../../lib/shared/protocol';
import { roundT, type CastEvent, type MarkKind } from './castEvents';
import { KEYFRAME_EVERY_BYTES, SEGMENT_BYTES, TabLog } from './TabLog';

/** fsync at most this often: a machine crash loses at most this much; a killed process nothing. */
export const SYNC_EVERY_MS = 1000;
/** Idle time longer than this is shortened to it in a recording's timeline (replay skips the wait). */
export const MAX_IDLE_GAP_S = 2;
const RETENTION_CHECK_MS = 60 * 60 * 1000;
/** The label of a command block keeps this much of the command line. */
const MAX_COMMAND_LABEL_CHARS = 120;

export interface RecorderOptions {
  dir: string;
  /** Per room, all its terminals together; the oldest segments go first when a room is over it. */
  maxRoomBytes: number;
  /** Segments untouched for longer than this are deleted. */
  retentionMs: number;
  /** Whether a room records who typed what (off unless the owner turns it on). */
  recordInput(roomId: string): boolean;
  roomExists(roomId: string): boolean;
  log: Logger;
  segmentBytes?: number;
  keyframeEveryBytes?: number;
}

/** What a relay needs to continue a room after a restart. */
export interface RestoredRoom {
  hostClientId: string | null;
  tabs: { id: string; title: string; seq: number; hostSeq: number; cols: number; rows: number; replay: string[] }[];
}

interface TabState {
  log: TabLog;
  shell: ShellIntegration;
  /** A command being typed (between the prompt's end and its output). */
  typing: string | null;
  wall: number;
}

interface RoomState {
  tabs: Map<string, TabState>;
  bytes: number;
  hostClientId: string | null;
}

/**
 * Records every terminal of every room as the relay passes it on (one directory per room under
 * DATA_DIR/recordings, one TabLog per terminal): output, resizes, command blocks from the shell's
 * marks, joins and leaves as markers, and input per person where the room's owner turned it on.
 */
export class Recorder {
  private rooms = new Map<string, RoomState>();
  private syncTimer: ReturnType<typeof setInterval>;
  private retentionTimer: ReturnType<typeof setInterval>;

  constructor(private o: RecorderOptions) {
    fs.mkdirSync(o.dir, { recursive: true });
    this.syncTimer = setInterval(() => this.sync(), SYNC_EVERY_MS);
    this.syncTimer.unref();
    this.retentionTimer = setInterval(() => this.enforceRetention(), RETENTION_CHECK_MS);
    this.retentionTimer.unref();
    this.enforceRetention();
  }

  private roomDir(roomId: string): string {
    if (!ROOM_ID_RE.test(roomId)) throw new Error(`bad room id ${roomId}`);
    return path.join(this.o.dir, roomId);
  }

  private room(roomId: string): RoomState {
    let r = this.rooms.get(roomId);
    if (r) return r;
    r = { tabs: new Map(), bytes: 0, hostClientId: null };
    this.rooms.set(roomId, r);
    const dir = this.roomDir(roomId);
    try {
      r.hostClientId = (JSON.parse(fs.readFileSync(path.join(dir, 'room.json'), 'utf8')) as { host?: string | null }).host ?? null;
    } catch {
      /* a room never recorded */
    }
    for (const tab of listDirs(dir)) {
      if (!TAB_ID_RE.test(tab)) continue;
      const opened = TabLog.open(path.join(dir, tab), this.logOpts(roomId, r));
      if (!opened) continue;
      r.bytes += opened.log.bytes;
      r.tabs.set(tab, { log: opened.log, shell: new ShellIntegration(), typing: null, wall: Date.now() });
      this.replays.set(`${roomId}/${tab}`, opened.replay);
    }
    return r;
  }
  /** Restored screens, handed to the relay once. */
  private replays = new Map<string, string[]>();

  private logOpts(roomId: string, r: RoomState) {
    return {
      segmentBytes: Math.min(this.o.segmentBytes ?? SEGMENT_BYTES, Math.max(64 * 1024, Math.floor(this.o.maxRoomBytes / 8))),
      keyframeEveryBytes: this.o.keyframeEveryBytes ?? KEYFRAME_EVERY_BYTES,
      onBytes: (d: number) => {
        r.bytes += d;
        if (r.bytes > this.o.maxRoomBytes) this.enforceCap(roomId, r);
      },
      onError: (err: unknown) => this.o.log.error({ err, room: roomId }, 'recording keyframe not written'),
    };
  }

  private tab(roomId: string, tab: string, title?: string): TabState {
    const r = this.room(roomId);
    let t = r.tabs.get(tab);
    if (!t) {
      const log = TabLog.create(path.join(this.roomDir(roomId), tab), { tab, title: title ?? (tab === DEFAULT_TAB ? 'Terminal' : tab), closed: false }, this.logOpts(roomId, r));
      t = { log, shell: new ShellIntegration(), typing: null, wall: Date.now() };
      r.tabs.set(tab, t);
    } else if (t.log.meta.closed) {
      t.log.meta.closed = false;
      t.log.writeMeta();
    }
    return t;
  }

  /** The timeline time of an event now: wall-clock time, with idle stretches shortened. */
  private at(t: TabState, now: number): number {
    const gap = Math.max(0, (now - t.wall) / 1000);
    t.wall = now;
    return roundT(t.log.lastT + Math.min(gap, MAX_IDLE_GAP_S));
  }


  // Appends go straight to the terminal's log; the room's size cap is enforced as bytes are counted (logOpts).
  output(roomId: string, tab: string, seq: number, hostSeq: number, data: string, time = Date.now()): void {
    const t = this.tab(roomId, tab);
    const at = this.at(t, time);
    t.log.append({ t: at, code: 'o', data, seq, hostSeq });
    for (const ev of t.shell.push(data)) {
      if (ev.kind === 'input') t.typing = '';
      else if (ev.kind === 'text' && t.typing !== null) {
        // The command line ends at Enter's newline (shells without a C mark, like ash, never say more).
        const nl = ev.text.search(/[\r\n]/);
        t.typing = (t.typing + (nl < 0 ? ev.text : ev.text.slice(0, nl))).slice(-4 * MAX_COMMAND_LABEL_CHARS);
        if (nl >= 0) this.commandStarts(t, at);
      } else if (ev.kind === 'output' && t.typing !== null) this.commandStarts(t, at);
      else if (ev.kind === 'done') t.log.append({ t: at, code: 'm', data: `exit ${ev.exitCode ?? '?'}`, kind: 'command', exitCode: ev.exitCode });
    }
  }

  /** A command block begins: its marker carries the command line as typed. */
  private commandStarts(t: TabState, at: number): void {
    const cmd = plainText(t.typing ?? '').trim().slice(0, MAX_COMMAND_LABEL_CHARS);
    t.typing = null;
    if (cmd) t.log.append({ t: at, code: 'm', data: `$ ${cmd}`, kind: 'command' });
  }

  resize(roomId: string, tab: string, cols: number, rows: number, time = Date.now()): void {
    const t = this.tab(roomId, tab);
    if (t.log.cols === cols && t.log.rows === rows) return;
    t.log.append({ t: this.at(t, time), code: 'r', data: `${cols}x${rows}` });
  }

  input(roomId: string, tab: string, data: string, by: { memberId: string; name: string }, time = Date.now()): void {
    if (!this.o.recordInput(roomId)) return;
    const t = this.tab(roomId, tab);
    t.log.append({ t: this.at(t, time), code: 'i', data, by });
  }

  /** A marker on every recorded terminal of the room (people arriving and leaving). */
  mark(roomId: string, kind: MarkKind, label: string, time = Date.now()): void {
    const r = this.room(roomId);
    if (!r.tabs.size) this.tab(roomId, DEFAULT_TAB);
    for (const t of r.tabs.values()) if (!t.log.meta.closed) t.log.append({ t: this.at(t, time), code: 'm', data: label, kind });
  }

  tabOpened(roomId: string, tab: string, title: string): void {
    const t = this.tab(roomId, tab, title);
    if (t.log.meta.title !== title) {
      t.log.meta.title = title;
      t.log.writeMeta();
    }
  }

  tabClosed(roomId: string, tab: string): void {
    const t = this.room(roomId).tabs.get(tab);
    if (!t) return;
    t.log.meta.closed = true;
    t.log.writeMeta();
  }

  /** Remembers which page hosts (so after a restart its seat is kept for it). */
  hostChanged(roomId: string, clientId: string | null): void {
    const r = this.room(roomId);
    if (r.hostClientId === clientId) return;
    r.hostClientId = clientId;
    fs.mkdirSync(this.roomDir(roomId), { recursive: true });
    fs.writeFileSync(path.join(this.roomDir(roomId), 'room.json'), JSON.stringify({ host: clientId }));
  }

  /** A room's open terminals as recorded, for a relay that starts after a restart. */
  restore(roomId: string): RestoredRoom {
    const r = this.room(roomId);
    const tabs: RestoredRoom['tabs'] = [];
    for (const [id, t] of r.tabs) {
      if (t.log.meta.closed) continue;
      const key = `${roomId}/${id}`;
      tabs.push({ id, title: t.log.meta.title, seq: t.log.lastSeq, hostSeq: t.log.lastHostSeq, cols: t.log.cols, rows: t.log.rows, replay: this.replays.get(key) ?? [] });
      this.replays.delete(key);
    }
    return { hostClientId: r.hostClientId, tabs };
  }

  since(roomId: string, tab: string, seq: number) {
    return this.rooms.get(roomId)?.tabs.get(tab)?.log.since(seq) ?? null;
  }

  /** The room's recorded terminals (reading them loads the room's index). */
  logs(roomId: string): Map<string, TabLog> {
    const out = new Map<string, TabLog>();
    if (!this.o.roomExists(roomId)) return out;
    for (const [id, t] of this.room(roomId).tabs) out.set(id, t.log);
    return out;
  }

  roomBytes(roomId: string): number {
    return this.room(roomId).bytes;
  }

  /** Writes a whole recording (an import) into a new room's `main` terminal. */
  async write(roomId: string, title: string, cols: number, rows: number, events: CastEvent[]): Promise<void> {
    const dir = path.join(this.roomDir(roomId), DEFAULT_TAB);
    const r = this.room(roomId);
    const log = TabLog.create(dir, { tab: DEFAULT_TAB, title, closed: false }, this.logOpts(roomId, r), cols, rows);
    r.tabs.set(DEFAULT_TAB, { log, shell: new ShellIntegration(), typing: null, wall: Date.now() });
    for (const e of events) log.append(e);
    await log.settled();
    log.sync();
  }

  /** Deletes a room's recordings (the room was deleted, or an import failed half-way). */
  forget(roomId: string): void {
    const r = this.rooms.get(roomId);
    if (r) for (const t of r.tabs.values()) t.log.close();
    this.rooms.delete(roomId);
    fs.rmSync(this.roomDir(roomId), { recursive: true, force: true });
  }

  private enforceCap(roomId: string, r: RoomState): void {
    while (r.bytes > this.o.maxRoomBytes) {
      // The tab whose oldest segment is oldest gives it up.
      let victim: TabLog | null = null;
      for (const t of r.tabs.values()) {
        const first = t.log.segments[0];
        if (t.log.segments.length < 2 || !first) continue;
        if (!victim || first.firstT < victim.segments[0].firstT) victim = t.log;
      }
      if (!victim) return;
      const freed = victim.dropOldest();
      r.bytes -= freed;
      this.o.log.info({ room: roomId, tab: victim.meta.tab, freed }, 'recording over its cap: oldest segment dropped');
    }
  }

  /** Drops segments older than the retention and recordings of rooms that no longer exist. */
  enforceRetention(now = Date.now()): void {
    for (const roomId of listDirs(this.o.dir)) {
      if (!ROOM_ID_RE.test(roomId)) continue;
      if (!this.o.roomExists(roomId)) {
        this.forget(roomId);
        continue;
      }
      const r = this.rooms.get(roomId);
      if (!r) {
        // Not loaded: look at file times only, without loading every room at start.
        for (const tab of listDirs(path.join(this.o.dir, roomId))) this.expireFiles(path.join(this.o.dir, roomId, tab), now);
        continue;
      }
      for (const t of r.tabs.values()) {
        for (let m = t.log.oldestMtimeMs(); m !== null && now - m > this.o.retentionMs; m = t.log.oldestMtimeMs()) r.bytes -= t.log.dropOldest();
      }
    }
  }

  private expireFiles(dir: string, now: number): void {
    const segs = fs.readdirSync(dir).filter((f) => /^\d{6}\.cast$/.test(f)).sort();
    for (const f of segs.slice(0, -1)) {
      const file = path.join(dir, f);
      if (now - fs.statSync(file).mtimeMs <= this.o.retentionMs) break;
      fs.rmSync(file, { force: true });
      fs.rmSync(file.replace(/\.cast$/, '.kf'), { force: true });
    }
  }

  sync(): void {
    for (const [roomId, r] of this.rooms)
      for (const t of r.tabs.values()) {
        try {
          t.log.sync();
        } catch (err) {
          this.o.log.error({ err, room: roomId }, 'recording fsync failed');
        }
      }
  }

  close(): void {
    clearInterval(this.syncTimer);
    clearInterval(this.retentionTimer);
    for (const r of this.rooms.values()) for (const t of r.tabs.values()) t.log.close();
    this.rooms.clear();
  }
}

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Terminal text without escape sequences (command labels, search). */
export function plainText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
