import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../db';
import { sessions } from '../../drizzle/schema';
import { SESSION_MAX_AGE_S } from '../auth/sessionJwt';

/**
 * Server-side sessions behind next-auth's JWT cookie: a JWT is honoured only while its row exists,
 * so signing out and "sign out everywhere" take effect at once, on every server path.
 */
export class SessionStore {
  /** 'ended': sessions signed out or revoked; their live connections are cut (server/app.ts). */
  readonly events = new EventEmitter<{ ended: [sids: string[]] }>();

  constructor(private db: Db) {
    this.events.setMaxListeners(0);
  }

  create(userId: string, now = new Date()): string {
    const id = crypto.randomBytes(18).toString('base64url');
    this.db
      .insert(sessions)
      .values({ id, userId, createdAt: now, expiresAt: new Date(now.getTime() + SESSION_MAX_AGE_S * 1000) })
      .run();
    // Expired rows of anyone go now and then: cheap, indexed by primary key scan of a small table.
    if (Math.random() < 0.02) this.db.delete(sessions).where(lt(sessions.expiresAt, now)).run();
    return id;
  }

  isValid(sid: string, userId: string, now = new Date()): boolean {
    return !!this.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.id, sid), eq(sessions.userId, userId), gt(sessions.expiresAt, now)))
      .get();
  }

  end(sid: string): void {
    this.db.delete(sessions).where(eq(sessions.id, sid)).run();
    this.events.emit('ended', [sid]);
  }

  endAll(userId: string): void {
    const ended = this.db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id }).all();
    if (ended.length) this.events.emit('ended', ended.map((r) => r.id));
  }
}
