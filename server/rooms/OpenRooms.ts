import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { TandemError } from '../../lib/shared/errors';
import { RateLimiter, type RateLimit } from '../accounts/RateLimiter';
import type { RoomStore } from './RoomStore';
import { clientPrefix } from '../access/clientPrefix';

/**
 * Open rooms (made signed out) cost the server a database row, a Yjs document and, once hosted,
 * terminal mirrors; anyone may make them. So: a rate per client, a cap per client and for the whole
 * server, and idle ones are deleted after a while. A "client" is an address (IPv6: its /64, which
 * one subscriber usually holds whole), stored only as a keyed hash.
 */
export const OPEN_ROOMS_PER_CLIENT_RATE: RateLimit = { points: 30, windowMs: 10 * 60_000 };
/** Open rooms one client may hold at once (a classroom behind one NAT address makes one each). */
export const MAX_OPEN_ROOMS_PER_CLIENT = 100;
export const DEFAULT_MAX_OPEN_ROOMS = 5000;
export const DEFAULT_OPEN_ROOM_IDLE_DAYS = 14;
/** How often idle open rooms are looked for; each sweep deletes at most RECLAIM_BATCH. */
const RECLAIM_EVERY_MS = 60 * 60_000;
const RECLAIM_BATCH = 500;

export interface OpenRoomsOptions {
  rooms: RoomStore;
  secret: string;
  log: Logger;
  maxOpenRooms?: number;
  maxPerClient?: number;
  rate?: RateLimit;
  idleMs?: number;
  /** Someone is in the room now: never reclaim it. */
  isLive(roomId: string): boolean;
  /** A room was deleted as idle (cut off whoever still holds a document of it). */
  onReclaimed?(roomId: string): void;
}

export class OpenRooms {
  private readonly limiter: RateLimiter;
  private readonly timer: ReturnType<typeof setInterval>;
  readonly maxOpenRooms: number;
  readonly maxPerClient: number;
  readonly idleMs: number;

  constructor(private o: OpenRoomsOptions) {
    this.limiter = new RateLimiter(o.rate ?? OPEN_ROOMS_PER_CLIENT_RATE);
    this.maxOpenRooms = o.maxOpenRooms ?? DEFAULT_MAX_OPEN_ROOMS;
    this.maxPerClient = o.maxPerClient ?? MAX_OPEN_ROOMS_PER_CLIENT;
    this.idleMs = o.idleMs ?? DEFAULT_OPEN_ROOM_IDLE_DAYS * 24 * 3600_000;
    this.timer = setInterval(() => this.reclaimIdle(), Math.min(RECLAIM_EVERY_MS, this.idleMs)).unref();
  }

  /** The keyed hash a client's rooms are counted under. */
  clientKey(ip: string): string {
    return crypto.createHmac('sha256', this.o.secret).update(`open-room:${clientPrefix(ip)}`).digest('base64url').slice(0, 22);
  }

  /** Throws RATE_LIMITED or QUOTA_EXCEEDED (with a retry hint in ms for the first); otherwise the key to store with the room. */
  admit(ip: string): string {
    const key = this.clientKey(ip);
    if (this.o.rooms.countOpen() >= this.maxOpenRooms) {
      // Idle rooms might be all that stands in the way: reclaim some before refusing.
      if (this.reclaimIdle().length === 0 || this.o.rooms.countOpen() >= this.maxOpenRooms)
        throw new TandemError('QUOTA_EXCEEDED', `this server holds its maximum of ${this.maxOpenRooms} open rooms; sign in to make a members-only room`);
    }
    if (this.o.rooms.countOpen(key) >= this.maxPerClient)
      throw new TandemError('QUOTA_EXCEEDED', `you have made ${this.maxPerClient} open rooms; reuse one, or sign in`);
    const r = this.limiter.consume(key);
    if (!r.ok) throw Object.assign(new TandemError('RATE_LIMITED', 'too many new rooms; try again later'), { retryAfterMs: r.retryAfterMs });
    return key;
  }

  /** Deletes open rooms idle for longer than idleMs that nobody is in; returns their ids. */
  reclaimIdle(now = new Date()): string[] {
    const gone: string[] = [];
    for (const id of this.o.rooms.idleOpen(new Date(now.getTime() - this.idleMs), RECLAIM_BATCH)) {
      if (this.o.isLive(id)) continue;
      if (this.o.rooms.delete(id)) gone.push(id);
      this.o.onReclaimed?.(id);
    }
    if (gone.length) this.o.log.info({ count: gone.length }, 'idle open rooms deleted');
    return gone;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
