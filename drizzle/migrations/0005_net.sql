CREATE TABLE `net_audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`room` text NOT NULL,
	`host` text NOT NULL,
	`kind` text NOT NULL,
	`ip` text,
	`port` integer NOT NULL,
	`name` text,
	`bytes_up` integer NOT NULL,
	`bytes_down` integer NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`refused` text,
	`close_reason` integer,
	FOREIGN KEY (`room`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `net_audit_room_started` ON `net_audit` (`room`,`started_at`);--> statement-breakpoint
CREATE INDEX `net_audit_started` ON `net_audit` (`started_at`);--> statement-breakpoint
ALTER TABLE `rooms` ADD `internet` integer;