import { sqliteTable, text, integer, blob, index, uniqueIndex, primaryKey, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';

export const rooms = sqliteTable('rooms', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** auto | cheerpx | v86; null follows VM_ENGINE. */
  engine: text('engine'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  /**
   * The account that created the room (listings, quotas). Authority comes from `memberships` only.
   * Null for rooms made before accounts (e.g. `default`).
   */
  ownerId: text('owner_id').references((): AnySQLiteColumn => users.id, { onDelete: 'set null' }),
  /** Set when the owner archives the room: hidden from listings, kept on disk. */
  archivedAt: integer('archived_at', { mode: 'timestamp_ms' }),
});

export type RoomRow = typeof rooms.$inferSelect;

export const COMMAND_STATES = ['queued', 'running', 'done', 'failed', 'timeout', 'cancelled', 'interrupted'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** The command queue (server/commands): one row per command, queued → running → a final state. */
export const commands = sqliteTable(
  'commands',
  {
    id: text('id').primaryKey(),
    room: text('room')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    cmd: text('cmd').notNull(),
    state: text('state', { enum: COMMAND_STATES }).notNull(),
    exitCode: integer('exit_code'),
    output: text('output').notNull().default(''),
    /** Output went past MAX_COMMAND_OUTPUT_BYTES; the rest was dropped. */
    truncated: integer('truncated', { mode: 'boolean' }).notNull().default(false),
    /** Client-chosen key that makes a retried POST return the same command instead of running it again. */
    idempotencyKey: text('idempotency_key'),
    timeoutMs: integer('timeout_ms').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    /** Why it did not finish normally (or the exit code in words). */
    error: text('error'),
  },
  (t) => [
    // SQLite treats NULLs as distinct, so commands without a key never collide.
    uniqueIndex('commands_room_idempotency_key').on(t.room, t.idempotencyKey),
    index('commands_room_state_created').on(t.room, t.state, t.createdAt),
    index('commands_created').on(t.createdAt),
  ],
);

export type CommandRow = typeof commands.$inferSelect;

/** Ascending by rank: each role can do everything the ones before it can (server/accounts/Roles.ts). */
export const ROLES = ['viewer', 'driver', 'instructor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Accounts (server/accounts/AccountStore.ts). */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Stored trimmed and lowercased, so uniqueness is case-insensitive. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** `$scrypt$ln=…,r=…,p=…$salt$hash` (lib/auth/password.ts); null: no password sign-in (e.g. OAuth only). */
    passwordHash: text('password_hash'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('users_email').on(t.email)],
);

export type UserRow = typeof users.$inferSelect;

/** Who may do what in a room (server/accounts/MembershipStore.ts). */
export const memberships = sqliteTable(
  'memberships',
  {
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('memberships_user').on(t.userId)],
);

export type MembershipRow = typeof memberships.$inferSelect;

/** Invite links (server/accounts/InviteStore.ts). Only a SHA-256 of the token is stored. */
export const invites = sqliteTable(
  'invites',
  {
    id: text('id').primaryKey(),
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull().default('viewer'),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    /** Null: any number of uses until it expires. */
    maxUses: integer('max_uses'),
    uses: integer('uses').notNull().default(0),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('invites_token_hash').on(t.tokenHash), index('invites_room_created').on(t.roomId, t.createdAt)],
);

export type InviteRow = typeof invites.$inferSelect;

/**
 * Each room's Yjs document as an append-only log of updates (server/collab/YjsHub.ts), compacted
 * now and then into one row holding the whole state.
 */
export const yjsUpdates = sqliteTable(
  'yjs_updates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    update: blob('update', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('yjs_updates_room_id').on(t.roomId, t.id)],
);
