import crypto from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { apiTokens } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';

export const API_TOKEN_PREFIX = 'tdm_';
export const API_TOKEN_BYTES = 24;
export const MAX_API_TOKENS_PER_USER = 50;
export const MAX_API_TOKEN_NAME_CHARS = 64;
/** lastUsedAt is written at most this often per token, so a busy script does not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;
const TOKEN_RE = new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{32}$`);

export interface ApiToken {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const tokenNameSchema = z
  .string({ error: 'name is required' })
  .trim()
  .min(1, 'name is required')
  .max(MAX_API_TOKEN_NAME_CHARS, `name is at most ${MAX_API_TOKEN_NAME_CHARS} characters`);

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** Per-user tokens for the command API. The token is shown once; only its SHA-256 is kept. */
export class ApiTokenStore {
  constructor(private db: Db) {}

  create(userId: string, name: unknown, now = new Date()): { token: string; apiToken: ApiToken } {
    const n = tokenNameSchema.safeParse(name);
    if (!n.success) throw new TandemError('BAD_MESSAGE', n.error.issues[0]?.message ?? 'bad name');
    if (this.list(userId).length >= MAX_API_TOKENS_PER_USER) throw new TandemError('TOO_LARGE', `at most ${MAX_API_TOKENS_PER_USER} API tokens per account; revoke one first`);
    const token = API_TOKEN_PREFIX + crypto.randomBytes(API_TOKEN_BYTES).toString('base64url');
    const id = crypto.randomBytes(8).toString('hex');
    this.db.insert(apiTokens).values({ id, userId, name: n.data, tokenHash: hash(token), createdAt: now }).run();
    return { token, apiToken: { id, name: n.data, createdAt: now, lastUsedAt: null } };
  }

  /** The user a live token belongs to, or null. A single index probe on the token's hash. */
  authenticate(token: string, now = new Date()): string | null {
    if (!TOKEN_RE.test(token)) return null;
    const row = this.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, hash(token)), isNull(apiTokens.revokedAt)))
      .get();
    if (!row) return null;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS)
      this.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id)).run();
    return row.userId;
  }

  list(userId: string): ApiToken[] {
    return this.db
      .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .orderBy(desc(apiTokens.createdAt))
      .limit(MAX_API_TOKENS_PER_USER)
      .all();
  }

  revoke(userId: string, id: string, now = new Date()): void {
    const res = this.db
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .run();
    if (res.changes !== 1) throw new TandemError('NOT_FOUND', 'no such API token');
  }
}
