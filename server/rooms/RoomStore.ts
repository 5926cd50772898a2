import crypto from 'node:crypto';
import { and, asc, count, desc, eq, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { rooms, type RoomRow } from '../../drizzle/schema';
import { ROOM_ID_RE, type RoomGuest } from '../../lib/shared/protocol';
import { TandemError } from '../../lib/shared/errors';

export const DEFAULT_ROOM = 'default';
/** The room behind /alpine: the VM's graphical screen, shared like a terminal. */
export const ALPINE_ROOM = 'alpine';
export const MAX_ROOM_NAME_CHARS = 80;
const BUILT_IN_ROOMS = [DEFAULT_ROOM, ALPINE_ROOM];
/** lastActiveAt is only as fine as this: a class joining at once costs one write per room, not one each. */
const TOUCH_RESOLUTION_MS = 60_000;

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

  /** Newest first; rooms made in the same millisecond in the order they were made (rowid). Only `ids` when given. */
  list(limit: number, ids?: readonly string[]): RoomRow[] {
    if (ids?.length === 0) return [];
    const q = this.db.select().from(rooms);
    return (ids ? q.where(inArray(rooms.id, [...ids])) : q).orderBy(desc(rooms.createdAt), desc(sql`rowid`)).limit(limit).all();
  }

  create(name: string, opts: { engine?: string | null; ownerId?: string | null; guest?: RoomGuest | null; creatorKey?: string | null; replayOnly?: boolean } = {}): RoomRow {
    const clean = cleanRoomName(name);
    // 80 random bits: unguessable enough that a room link is not found by scanning.
    const row: RoomRow = {
      id: crypto.randomBytes(10).toString('hex'),
      name: clean,
      engine: opts.engine ?? null,
      createdAt: new Date(),
      ownerId: opts.ownerId ?? null,
      archivedAt: null,
      alwaysOn: false,
      guest: opts.guest ?? null,
      internet: null,
      creatorKey: opts.creatorKey ?? null,
      lastActiveAt: null,
      recordInput: false,
      replayOnly: opts.replayOnly ?? false,
    };
    this.db.insert(rooms).values(row).run();
    return row;
  }

  update(
    id: string,
    patch: { name?: string; archived?: boolean; alwaysOn?: boolean; engine?: string | null; guest?: RoomGuest | null; internet?: boolean | null; recordInput?: boolean },
    now = new Date(),
  ): RoomRow {
    const set: Partial<RoomRow> = {};
    if (patch.name !== undefined) set.name = cleanRoomName(patch.name);
    if (patch.archived !== undefined) set.archivedAt = patch.archived ? now : null;
    if (patch.alwaysOn !== undefined) set.alwaysOn = patch.alwaysOn;
    if (patch.engine !== undefined) set.engine = patch.engine;
    if (patch.guest !== undefined) set.guest = patch.guest;
    if (patch.internet !== undefined) set.internet = patch.internet;
    if (patch.recordInput !== undefined) set.recordInput = patch.recordInput;
    if (Object.keys(set).length) this.db.update(rooms).set(set).where(eq(rooms.id, id)).run();
    const row = this.get(id);
    if (!row) throw new TandemError('ROOM_NOT_FOUND', 'no such room');
    return row;
  }

  /** Deletes the room and, by cascade, its commands, members, invites, guests and notes. */
  delete(id: string): boolean {
    if (id === DEFAULT_ROOM || id === ALPINE_ROOM) throw new TandemError('FORBIDDEN', `the ${id} room cannot be deleted`);
    return this.db.delete(rooms).where(eq(rooms.id, id)).run().changes === 1;
  }

  /** Rooms kept running by the headless host (not archived). */
  alwaysOn(limit: number): RoomRow[] {
    return this.db
      .select()
      .from(rooms)
      .where(and(eq(rooms.alwaysOn, true), isNull(rooms.archivedAt)))
      .orderBy(desc(rooms.createdAt))
      .limit(limit)
      .all();
  }

  /** Open rooms (no owner) besides the built-in ones; of one creator when given. */
  countOpen(creatorKey?: string): number {
    return this.db
      .select({ n: count() })
      .from(rooms)
      .where(and(isNull(rooms.ownerId), notInArray(rooms.id, BUILT_IN_ROOMS), creatorKey === undefined ? undefined : eq(rooms.creatorKey, creatorKey)))
      .get()!.n;
  }

  /** Someone connected or left: the room is in use (written at most once a minute per room). */
  touch(id: string, now = new Date()): void {
    this.db
      .update(rooms)
      .set({ lastActiveAt: now })
      .where(and(eq(rooms.id, id), or(isNull(rooms.lastActiveAt), lt(rooms.lastActiveAt, new Date(now.getTime() - TOUCH_RESOLUTION_MS)))))
      .run();
  }

  /** Open rooms (not built in) nobody has used since `before`, oldest first, at most `limit`. */
  idleOpen(before: Date, limit: number): string[] {
    return this.db
      .select({ id: rooms.id })
      .from(rooms)
      .where(and(isNull(rooms.ownerId), notInArray(rooms.id, BUILT_IN_ROOMS), lt(sql`coalesce(${rooms.lastActiveAt}, ${rooms.createdAt})`, before.getTime())))
      .orderBy(asc(sql`coalesce(${rooms.lastActiveAt}, ${rooms.createdAt})`))
      .limit(limit)
      .all()
      .map((r) => r.id);
  }

  ensure(id: string, name: string): RoomRow {
    this.db.insert(rooms).values({ id, name, engine: null, createdAt: new Date() }).onConflictDoNothing().run();
    return this.get(id)!;
  }
}

/** Trimmed, non-empty, at most MAX_ROOM_NAME_CHARS, no control characters. */
export function cleanRoomName(name: unknown): string {
  if (typeof name !== 'string') throw new TandemError('BAD_MESSAGE', 'room name must be a string');
  const clean = name.trim();
  if (!clean) throw new TandemError('BAD_MESSAGE', 'room name is empty');
  if (clean.length > MAX_ROOM_NAME_CHARS) throw new TandemError('TOO_LARGE', `room names are at most ${MAX_ROOM_NAME_CHARS} characters`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(clean)) throw new TandemError('BAD_MESSAGE', 'room names cannot contain control characters');
  return clean;
}
