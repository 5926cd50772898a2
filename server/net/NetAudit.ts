import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { netAudit, type NetAuditRow } from '../../drizzle/schema';
import type { RefusalReason } from './NetPolicy';

/** Why a connection was refused: the policy's reasons plus the room's switch and caps. */
export type NetRefusal =
  | RefusalReason
  | 'internet_off' // the room's switch, or NET=off / NET=members for this host
  | 'throttled' // new connections per minute
  | 'room_streams' // open streams of the room
  | 'server_streams' // open streams of the whole server
  | 'udp' // Wisp UDP streams are not offered
  | 'invalid' // a malformed CONNECT
  | 'unresolved'; // the name did not resolve

export type NetAuditEntry = Omit<NetAuditRow, 'id'>;

/** Rows older than this are pruned (a week of classroom traffic stays inspectable). */
export const DEFAULT_NET_AUDIT_DAYS = 30;
/** Rows kept per room whatever their age: one noisy room cannot fill the disk. */
export const MAX_NET_AUDIT_ROWS_PER_ROOM = 20_000;
export const MAX_NET_AUDIT_PAGE_ROWS = 500;

/** The network audit (net_audit): one row per connection, written when it ends or is refused. */
export class NetAudit {
  private writesSincePrune = new Map<string, number>();

  constructor(
    private db: Db,
    private retentionMs = DEFAULT_NET_AUDIT_DAYS * 86_400_000,
  ) {}

  record(entry: NetAuditEntry): void {
    this.db.insert(netAudit).values(entry).run();
    // Trimming per room every so often keeps the insert path cheap.
    const n = (this.writesSincePrune.get(entry.room) ?? 0) + 1;
    this.writesSincePrune.set(entry.room, n);
    if (n >= 500) {
      this.writesSincePrune.delete(entry.room);
      this.trimRoom(entry.room);
    }
  }

  /** Newest first. */
  list(room: string, limit = 100, before?: number): NetAuditRow[] {
    const where = before !== undefined ? and(eq(netAudit.room, room), lt(netAudit.id, before)) : eq(netAudit.room, room);
    return this.db
      .select()
      .from(netAudit)
      .where(where)
      .orderBy(desc(netAudit.id))
      .limit(Math.min(Math.max(1, limit), MAX_NET_AUDIT_PAGE_ROWS))
      .all();
  }

  /** Totals for a room's panel: connections, refusals and bytes since `since`. */
  summary(room: string, since: number): { connections: number; refused: number; bytesUp: number; bytesDown: number } {
    const r = this.db
      .select({
        connections: sql<number>`count(*)`,
        refused: sql<number>`coalesce(sum(case when ${netAudit.refused} is null then 0 else 1 end), 0)`,
        bytesUp: sql<number>`coalesce(sum(${netAudit.bytesUp}), 0)`,
        bytesDown: sql<number>`coalesce(sum(${netAudit.bytesDown}), 0)`,
      })
      .from(netAudit)
      .where(and(eq(netAudit.room, room), sql`${netAudit.startedAt} >= ${since}`))
      .get();
    return r ?? { connections: 0, refused: 0, bytesUp: 0, bytesDown: 0 };
  }

  /** Deletes rows past the retention period; returns how many. */
  prune(now = Date.now()): number {
    return this.db.delete(netAudit).where(lt(netAudit.startedAt, new Date(now - this.retentionMs))).run().changes;
  }

  private trimRoom(room: string): void {
    this.db.run(
      sql`delete from net_audit where room = ${room} and id <= (select id from net_audit where room = ${room} order by id desc limit 1 offset ${MAX_NET_AUDIT_ROWS_PER_ROOM})`,
    );
  }
}
