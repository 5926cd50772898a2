import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const rooms = sqliteTable('rooms', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** auto | cheerpx | v86; null follows VM_ENGINE. */
  engine: text('engine'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
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
