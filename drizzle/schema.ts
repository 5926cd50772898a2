import { sqliteTable, text, integer } from 'drizzle-orm/sqlite-core';

export const rooms = sqliteTable('rooms', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** auto | cheerpx | v86; null follows VM_ENGINE. */
  engine: text('engine'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

export type RoomRow = typeof rooms.$inferSelect;
