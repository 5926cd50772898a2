CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`room` text NOT NULL,
	`cmd` text NOT NULL,
	`state` text NOT NULL,
	`exit_code` integer,
	`output` text DEFAULT '' NOT NULL,
	`truncated` integer DEFAULT false NOT NULL,
	`idempotency_key` text,
	`timeout_ms` integer NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`error` text,
	FOREIGN KEY (`room`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `commands_room_idempotency_key` ON `commands` (`room`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `commands_room_state_created` ON `commands` (`room`,`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `commands_created` ON `commands` (`created_at`);