ALTER TABLE `rooms` ADD `creator_key` text;--> statement-breakpoint
ALTER TABLE `rooms` ADD `last_active_at` integer;--> statement-breakpoint
CREATE INDEX `rooms_creator_key` ON `rooms` (`creator_key`);