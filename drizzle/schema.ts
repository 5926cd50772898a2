import { ROLES, type Role } from '../lib/shared/roles';
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
  /** Keep a VM running for this room even with nobody in it (the server's headless host). */
  alwaysOn: integer('always_on', { mode: 'boolean' }).notNull().default(false),
  /** The guest v86 boots: `disk` (the server's root disk), `small` (the bundled BusyBox guest); null: the disk when there is one. */
  guest: text('guest'),
  /** Recordings keep who typed what (input events per person): off unless the owner turns it on (privacy). */
  recordInput: integer('record_input', { mode: 'boolean' }).notNull().default(false),
  /** A room made by importing a .cast: a read-only replay, no VM, no typing. */
  replayOnly: integer('replay_only', { mode: 'boolean' }).notNull().default(false),
  /** The room's Internet switch (server/net); null follows the server's NET setting. */
  internet: integer('internet', { mode: 'boolean' }),
  /** Open rooms: a hash of the address that made it (per-client caps), never the address itself. */
  creatorKey: text('creator_key'),
  /** Last time anyone connected to or left the room: idle open rooms are reclaimed after a while. */
  lastActiveAt: integer('last_active_at', { mode: 'timestamp_ms' }),
}, (t) => [index('rooms_creator_key').on(t.creatorKey)]);

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

export { ROLES, type Role };

/** Accounts (server/accounts/AccountStore.ts). */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Stored trimmed and lowercased, so uniqueness is case-insensitive. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** `$scrypt$ln=…,r=…,p=…$salt$hash` (server/auth/password.ts); null: no password sign-in (e.g. OAuth only). */
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
    /** The invite link they joined through, if any: revoking it removes the membership. */
    inviteId: text('invite_id').references((): AnySQLiteColumn => invites.id, { onDelete: 'set null' }),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('memberships_user').on(t.userId), index('memberships_invite').on(t.inviteId)],
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

/**
 * Signed-in sessions (server/auth/nextAuth.ts). next-auth keeps a JWT in the cookie (Credentials
 * sign-in requires its JWT strategy); the JWT names one of these rows, and a session is valid only
 * while its row exists and has not expired, so signing out (or an owner's "sign out everywhere")
 * really ends it.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

export type SessionRow = typeof sessions.$inferSelect;

/**
 * People without an account who joined one room by an invite link (server/accounts/GuestStore.ts).
 * Their browser holds a signed cookie naming the row; the role lives here, so owners change it live.
 */
export const guests = sqliteTable(
  'guests',
  {
    id: text('id').primaryKey(),
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    inviteId: text('invite_id').references(() => invites.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    /** Removed by an owner or their invite was revoked: the cookie no longer admits them. */
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('guests_room').on(t.roomId), index('guests_invite').on(t.inviteId)],
);

export type GuestRow = typeof guests.$inferSelect;

/** Per-user API tokens for the command API (server/accounts/ApiTokenStore.ts). Only a SHA-256 is stored. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [uniqueIndex('api_tokens_token_hash').on(t.tokenHash), index('api_tokens_user').on(t.userId)],
);

export type ApiTokenRow = typeof apiTokens.$inferSelect;

/**
 * Every connection a room's VM opened or tried to open through the server (server/net/NetAudit.ts):
 * one row when it ends or is refused. Old rows are pruned (NET_AUDIT_DAYS).
 */
export const netAudit = sqliteTable(
  'net_audit',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    room: text('room')
      .notNull()
      .references(() => rooms.id, { onDelete: 'cascade' }),
    /** The member hosting the VM (`u:…`, `g:…`, `a:…`, `h:headless`), or `api` for the HTTP gateway. */
    host: text('host').notNull(),
    kind: text('kind', { enum: ['wisp', 'gateway'] }).notNull(),
    ip: text('ip'),
    port: integer('port').notNull(),
    /** The name the VM looked up (from our DNS answers) or the gateway's URL host. */
    name: text('name'),
    bytesUp: integer('bytes_up').notNull(),
    bytesDown: integer('bytes_down').notNull(),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    /** Why it was refused (policy, switch, caps); null when it was allowed. */
    refused: text('refused'),
    /** The Wisp close reason (or HTTP status for the gateway). */
    closeReason: integer('close_reason'),
  },
  (t) => [index('net_audit_room_started').on(t.room, t.startedAt), index('net_audit_started').on(t.startedAt)],
);

export type NetAuditRow = typeof netAudit.$inferSelect;
