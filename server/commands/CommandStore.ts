import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { commands, type CommandRow, type CommandState } from '../../drizzle/schema';

/**
 * The command queue's rows in SQLite: what is queued, running and finished per room, and the
 * finished ones pruned to a cap. better-sqlite3 is synchronous, so a look-up and the write after it
 * cannot interleave with another request. CommandQueue decides; this only reads and writes.
 */
export class CommandStore {
  constructor(
    private readonly db: Db,
    private readonly maxFinishedPerRoom: number,
  ) {}

  get(id: string): CommandRow | undefined {
    return this.db.select().from(commands).where(eq(commands.id, id)).get();
  }

  /** Newest first; of one room, or of `rooms` only when given. */
  list(opts: { room?: string; rooms?: readonly string[]; limit: number }): CommandRow[] {
    if (opts.rooms?.length === 0) return [];
    const where = and(opts.room ? eq(commands.room, opts.room) : undefined, opts.rooms ? inArray(commands.room, [...opts.rooms]) : undefined);
    return this.db
      .select()
      .from(commands)
      .where(where)
      .orderBy(desc(commands.createdAt), desc(sql`rowid`))
      .limit(opts.limit)
      .all();
  }

  byIdempotencyKey(room: string, key: string): CommandRow | undefined {
    return this.db
      .select()
      .from(commands)
      .where(and(eq(commands.room, room), eq(commands.idempotencyKey, key)))
      .get();
  }

  queuedCount(room: string): number {
    return this.db
      .select({ n: count() })
      .from(commands)
      .where(and(eq(commands.room, room), eq(commands.state, 'queued')))
      .get()!.n;
  }

  hasQueued(room: string): boolean {
    return !!this.db
      .select({ id: commands.id })
      .from(commands)
      .where(and(eq(commands.room, room), eq(commands.state, 'queued')))
      .limit(1)
      .get();
  }

  /** The room's oldest queued command: the next to run. */
  nextQueued(room: string): CommandRow | undefined {
    return this.db
      .select()
      .from(commands)
      .where(and(eq(commands.room, room), eq(commands.state, 'queued')))
      .orderBy(asc(commands.createdAt), asc(sql`rowid`))
      .limit(1)
      .get();
  }

  /** Rooms with commands queued (at start: those waiting since before a restart). */
  roomsWaiting(): string[] {
    return this.db
      .selectDistinct({ room: commands.room })
      .from(commands)
      .where(eq(commands.state, 'queued'))
      .all()
      .map((r) => r.room);
  }

  insert(row: CommandRow): void {
    this.db.insert(commands).values(row).run();
  }

  /** Every running command becomes `interrupted` with `error`; returns how many. */
  interruptRunning(error: string): number {
    return this.db.update(commands).set({ state: 'interrupted', finishedAt: new Date(), error }).where(eq(commands.state, 'running')).run().changes;
  }

  /** A queued command becomes `cancelled` with `error`; false when it was no longer queued. */
  cancelQueued(id: string, error: string): boolean {
    return (
      this.db
        .update(commands)
        .set({ state: 'cancelled', finishedAt: new Date(), error })
        .where(and(eq(commands.id, id), eq(commands.state, 'queued')))
        .run().changes > 0
    );
  }

  markRunning(id: string): void {
    this.db.update(commands).set({ state: 'running', startedAt: new Date() }).where(eq(commands.id, id)).run();
  }

  /** Back in the queue, as if never started (nothing was typed). */
  requeue(id: string): void {
    this.db.update(commands).set({ state: 'queued', startedAt: null }).where(eq(commands.id, id)).run();
  }

  finish(id: string, end: { state: CommandState; exitCode: number | null; output: string; truncated: boolean; error: string | null }): void {
    this.db
      .update(commands)
      .set({ ...end, finishedAt: new Date() })
      .where(eq(commands.id, id))
      .run();
  }

  /** Keeps the room's newest finished commands (cancelled ones count): queue-and-cancel in a loop cannot grow the table. */
  prune(room: string): void {
    this.db.run(sql`
      DELETE FROM ${commands} WHERE ${commands.room} = ${room}
        AND ${commands.state} NOT IN ('queued', 'running')
        AND ${commands.id} NOT IN (
          SELECT ${commands.id} FROM ${commands} WHERE ${commands.room} = ${room}
          ORDER BY ${commands.createdAt} DESC, rowid DESC LIMIT ${this.maxFinishedPerRoom})`);
  }
}
