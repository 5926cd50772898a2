CREATE TABLE `rooms` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`engine` text,
	`created_at` integer NOT NULL
);
