import crypto from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../lib/db';
import { rooms, type RoomRow } from '../../drizzle/schema';
import { ROOM_ID_RE } from '../../lib/protocol';
import { TandemError } from '../../lib/errors';

export const DEFAULT_ROOM = 'default';
/** The room behind /alpine: the VM's graphical screen, shared like a terminal. */
export const ALPINE_ROOM = 'alpine';
export const MAX_ROOM_NAME_CHARS = 80;

/** Rooms that exist; the relay refuses any other id. */
export class RoomStore {
  constructor(private db: Db) {
    this.ensure(DEFAULT_ROOM, 'Default room');
    this.ensure(ALPINE_ROOM, 'Alpine (graphical screen)');
  }

  get(id: string): RoomRow | undefined {
    if (!ROOM_ID_RE.test(id)) return undefined;
    return this.db.select().from(rooms).where(eq(rooms.id, id)).get();
  }

  /** Newest first; rooms made in the same millisecond in the order they were made (rowid). */
  list(limit: number): RoomRow[] {
    return this.db.select().from(rooms).orderBy(desc(rooms.createdAt), desc(sql`rowid`)).limit(limit).all();
  }

  create(name: string, engine: string | null = null): RoomRow {
    const clean = name.trim().slice(0, MAX_ROOM_NAME_CHARS);
    if (!clean) throw new TandemError('BAD_MESSAGE', 'room name is empty');
    // 80 random bits: unguessable enough that a room link is not found by scanning.
    const row: RoomRow = { id: crypto.randomBytes(10).toString('hex'), name: clean, engine, createdAt: new Date(), ownerId: null, archivedAt: null };
    this.db.insert(rooms).values(row).run();
    return row;
  }

  ensure(id: string, name: string): RoomRow {
    this.db.insert(rooms).values({ id, name, engine: null, createdAt: new Date() }).onConflictDoNothing().run();
    return this.get(id)!;
  }
}
