import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { users, type UserRow } from '../../drizzle/schema';
import { TandemError } from '../../lib/shared/errors';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, needsRehash, passwordProblem, verifyPassword, type ScryptParams } from '../auth/password';

export const MAX_NAME_CHARS = 64;
/** RFC 5321's limit on a forward path. */
export const MAX_EMAIL_CHARS = 254;

/** A user as the rest of the app sees it: never the password hash. */
export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
}

export const emailSchema = z.string().trim().toLowerCase().max(MAX_EMAIL_CHARS).pipe(z.email());
// C0/C1 controls and line/paragraph separators: a name is one line. Everything else, including
// `<script>`, is kept verbatim; escaping is the renderer's job.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
export const nameSchema = z
  .string()
  .trim()
  .refine((s) => s.length > 0, 'name is empty')
  .refine((s) => [...s].length <= MAX_NAME_CHARS, `name is longer than ${MAX_NAME_CHARS} characters`)
  .refine((s) => !CONTROL_RE.test(s), 'name contains control characters');

/** The key an email is stored and looked up under, or null when it is not an email address. */
export function normalizeEmail(email: unknown): string | null {
  const r = emailSchema.safeParse(email);
  return r.success ? r.data : null;
}

/**
 * Accounts with email + password. Passwords are scrypt-hashed (server/auth/password.ts); sign-in
 * hashes even for an unknown email so its timing does not tell which emails have accounts.
 */
export class AccountStore {
  private readonly params: ScryptParams;
  private dummyHash: Promise<string> | undefined;

  constructor(
    private db: Db,
    opts: { scrypt?: ScryptParams } = {},
  ) {
    this.params = opts.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  }

  /**
   * Throws TandemError: BAD_MESSAGE (not an email, empty/long name), PASSWORD_TOO_SHORT/_LONG/_SIMPLE,
   * CONFLICT (an account with that email, in any letter case, exists).
   */
  async createUser(input: { email: unknown; name: unknown; password: unknown }, now = new Date()): Promise<User> {
    const email = normalizeEmail(input.email);
    if (!email) throw new TandemError('BAD_EMAIL', 'not an email address');
    const name = nameSchema.safeParse(input.name);
    if (!name.success) throw new TandemError('BAD_NAME', name.error.issues[0]?.message ?? 'bad name');
    if (typeof input.password !== 'string') throw new TandemError('BAD_MESSAGE', 'password is not a string');
    const problem = passwordProblem(input.password);
    if (problem) throw new TandemError(problem, PROBLEM_TEXT[problem]);
    // Hash before looking for a duplicate: a taken email then costs as long as a free one, and the
    // unique index settles two sign-ups racing for the same email.
    const passwordHash = await hashPassword(input.password, this.params);
    const row: UserRow = { id: crypto.randomUUID(), email, name: name.data, passwordHash, createdAt: now };
    try {
      this.db.insert(users).values(row).run();
    } catch (e) {
      if (isUniqueViolation(e)) throw new TandemError('EMAIL_TAKEN', 'an account with that email exists');
      throw e;
    }
    return toUser(row);
  }

  /**
   * The user when email and password match, else null (never says which was wrong). Takes about
   * one hash whatever the input. Re-hashes a password stored with older scrypt parameters.
   */
  async verifyCredentials(email: unknown, password: unknown): Promise<User | null> {
    const key = normalizeEmail(email);
    const row = key ? this.db.select().from(users).where(eq(users.email, key)).get() : undefined;
    const usable = typeof password === 'string' && password.length <= MAX_PASSWORD_CHARS * 4;
    if (!row?.passwordHash || !usable) {
      await verifyPassword('not-the-password', await this.dummy());
      return null;
    }
    if (!(await verifyPassword(password, row.passwordHash))) return null;
    if (needsRehash(row.passwordHash, this.params)) {
      const passwordHash = await hashPassword(password, this.params);
      this.db.update(users).set({ passwordHash }).where(eq(users.id, row.id)).run();
    }
    return toUser(row);
  }

  /**
   * The account for an email a trusted OAuth provider (GitHub) vouches for: the existing one, or a
   * new one without a password.
   */
  upsertOAuthUser(email: unknown, name: unknown, now = new Date()): User {
    const key = normalizeEmail(email);
    if (!key) throw new TandemError('BAD_EMAIL', 'the provider gave no usable email address');
    const found = this.getUserByEmail(key);
    if (found) return found;
    const n = nameSchema.safeParse(typeof name === 'string' && name.trim() ? name.slice(0, MAX_NAME_CHARS) : key.split('@')[0]);
    const row: UserRow = { id: crypto.randomUUID(), email: key, name: n.success ? n.data : 'User', passwordHash: null, createdAt: now };
    try {
      this.db.insert(users).values(row).run();
    } catch (e) {
      if (isUniqueViolation(e)) return this.getUserByEmail(key)!;
      throw e;
    }
    return toUser(row);
  }

  getUser(id: string): User | undefined {
    if (typeof id !== 'string') return undefined;
    const row = this.db.select().from(users).where(eq(users.id, id)).get();
    return row && toUser(row);
  }

  getUserByEmail(email: unknown): User | undefined {
    const key = normalizeEmail(email);
    const row = key ? this.db.select().from(users).where(eq(users.email, key)).get() : undefined;
    return row && toUser(row);
  }

  /** A hash of a random password with our parameters, made once: what unknown emails are checked against. */
  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(crypto.randomBytes(18).toString('base64url'), this.params));
  }
}

const PROBLEM_TEXT = {
  PASSWORD_TOO_SHORT: `password is too short (at least ${MIN_PASSWORD_CHARS} characters)`,
  PASSWORD_TOO_LONG: `password is too long (at most ${MAX_PASSWORD_CHARS} characters)`,
  PASSWORD_TOO_SIMPLE: 'password is too simple: mix letters, digits or symbols, or use a longer passphrase',
} as const;

function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.createdAt };
}

/** Drizzle wraps the driver's error; the SQLite code is on it or its cause. */
export function isUniqueViolation(e: unknown): boolean {
  for (let err = e as { code?: unknown; cause?: unknown } | undefined, i = 0; err && i < 3; err = err.cause as typeof err, i++)
    if (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  return false;
}
