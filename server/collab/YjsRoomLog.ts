import * as Y from 'yjs';
import type { Logger } from 'pino';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db';
import { yjsUpdates } from '../../drizzle/schema';

/**
 * A room's document beyond this is refused further updates (notes are not a file store). What is
 * stored stays under MAX_YJS_DOC_BYTES + MAX_YJS_MESSAGE_BYTES: the check runs before each message.
 */
export const MAX_YJS_DOC_BYTES = 4 * 1024 * 1024;
/** A room's stored updates are merged into one row past this many. */
export const YJS_COMPACT_AFTER_ROWS = 200;
/**
 * Over the byte cap, compact (deleted text may shrink away) only if this much, or an eighth of the
 * cap if less, was appended since the last compaction; otherwise the document counts as full.
 * Keeps a nearly full room from re-encoding megabytes on every keystroke.
 */
const MIN_BYTES_BETWEEN_COMPACTIONS = 64 * 1024;

export interface YjsLogOptions {
  compactAfterRows?: number;
  maxDocBytes?: number;
}

/**
 * One room's Yjs document kept in SQLite as an append-only log of updates (yjs_updates), loaded
 * into the doc on construction. Every update is one row, written synchronously in the doc's
 * 'update' handler, before the hub relays it. Past `compactAfterRows` rows, or over the byte cap,
 * the rows are replaced by one holding Y.encodeStateAsUpdate, in one transaction, so a crash keeps
 * either the old rows or the new one. Compaction is also how deleted text stops costing space
 * (the doc has gc on). Transport-free: YjsDocs makes one per open room.
 */
export class YjsRoomLog {
  private storedRows = 0;
  private storedBytes = 0;
  private appendedSinceCompaction = 0;
  private readonly compactAfterRows: number;
  private readonly maxDocBytes: number;
  private readonly minBytesBetweenCompactions: number;

  constructor(
    private db: Db,
    private roomId: string,
    private doc: Y.Doc,
    private log: Logger,
    opts: YjsLogOptions = {},
  ) {
    this.compactAfterRows = opts.compactAfterRows ?? YJS_COMPACT_AFTER_ROWS;
    this.maxDocBytes = opts.maxDocBytes ?? MAX_YJS_DOC_BYTES;
    this.minBytesBetweenCompactions = Math.min(MIN_BYTES_BETWEEN_COMPACTIONS, Math.ceil(this.maxDocBytes / 8));
    this.load();
  }

  /** Rows stored for the room. */
  get rows(): number {
    return this.storedRows;
  }

  /** Bytes stored for the room: the encoded document right after a compaction, roughly an upper bound on it otherwise. */
  get bytes(): number {
    return this.storedBytes;
  }

  /**
   * True when the stored bytes exceed the cap: refuse further updates. Within
   * MIN_BYTES_BETWEEN_COMPACTIONS of appends after a compaction, a document just under the cap may
   * be refused until the next compaction (at the latest when its last client leaves).
   */
  get full(): boolean {
    return this.storedBytes > this.maxDocBytes;
  }

  /** Whether `extraBytes` more (e.g. updates held as pending in memory) would take the document over its cap. */
  wouldOverflow(extraBytes: number): boolean {
    return this.storedBytes + extraBytes > this.maxDocBytes;
  }

  /** Stores one update of the doc (call from its 'update' event). */
  append(update: Uint8Array, now = new Date()): void {
    this.db.insert(yjsUpdates).values({ roomId: this.roomId, update: toBuffer(update), createdAt: now }).run();
    this.storedRows++;
    this.storedBytes += update.byteLength;
    this.appendedSinceCompaction += update.byteLength;
    if (this.storedRows > this.compactAfterRows || (this.full && this.appendedSinceCompaction >= this.minBytesBetweenCompactions)) this.compact(now);
  }

  /** Replaces the room's rows with one holding the whole document. Nothing to do when nothing is stored. */
  compact(now = new Date()): void {
    if (this.storedRows === 0 || (this.storedRows === 1 && this.appendedSinceCompaction === 0)) return;
    this.rewrite(now);
  }

  private rewrite(now = new Date()): void {
    const state = Y.encodeStateAsUpdate(this.doc);
    this.db.transaction(
      () => {
        this.db.delete(yjsUpdates).where(eq(yjsUpdates.roomId, this.roomId)).run();
        this.db.insert(yjsUpdates).values({ roomId: this.roomId, update: toBuffer(state), createdAt: now }).run();
      },
      { behavior: 'immediate' },
    );
    this.storedRows = 1;
    this.storedBytes = state.byteLength;
    this.appendedSinceCompaction = 0;
  }

  private load(): void {
    const rows = this.db
      .select({ id: yjsUpdates.id, update: yjsUpdates.update })
      .from(yjsUpdates)
      .where(eq(yjsUpdates.roomId, this.roomId))
      .orderBy(asc(yjsUpdates.id))
      .all();
    if (!rows.length) return;
    const updates = rows.map((r) => new Uint8Array(r.update));
    let damaged = false;
    try {
      Y.applyUpdate(this.doc, Y.mergeUpdates(updates), YjsRoomLog);
    } catch (err) {
      // A damaged row must not cost the room everything else: apply what still decodes.
      damaged = true;
      this.log.warn({ err, roomId: this.roomId }, 'stored yjs updates do not merge; applying them one by one');
      for (const [i, u] of updates.entries())
        try {
          Y.applyUpdate(this.doc, u, YjsRoomLog);
        } catch (e) {
          this.log.warn({ err: e, roomId: this.roomId, row: rows[i].id }, 'skipping a damaged yjs update');
        }
    }
    this.storedRows = rows.length;
    this.storedBytes = updates.reduce((n, u) => n + u.byteLength, 0);
    // At once when a crash left many rows, the room is over its cap, or damaged rows should go.
    if (this.storedRows > this.compactAfterRows || this.full || damaged) this.rewrite();
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
