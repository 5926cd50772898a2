ALTER TABLE `rooms` ADD `record_input` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `replay_only` integer DEFAULT false NOT NULL;