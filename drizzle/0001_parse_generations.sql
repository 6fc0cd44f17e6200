ALTER TABLE "file_table" DROP CONSTRAINT "file_table_version_id_position_key";--> statement-breakpoint
ALTER TABLE "file_table" ADD COLUMN "generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "file_table" ADD COLUMN "state" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "file_version" ADD COLUMN "parse_generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "file_version" ADD COLUMN "parse_cursor" jsonb;--> statement-breakpoint
ALTER TABLE "file_table" ADD CONSTRAINT "file_table_version_id_generation_position_key" UNIQUE("version_id","generation","position");--> statement-breakpoint
ALTER TABLE "file_table" ADD CONSTRAINT "file_table_generation_non_negative" CHECK ("file_table"."generation" >= 0);--> statement-breakpoint
ALTER TABLE "file_table" ADD CONSTRAINT "file_table_state_known" CHECK ("file_table"."state" IN ('building', 'active', 'superseded'));--> statement-breakpoint
ALTER TABLE "file_version" ADD CONSTRAINT "file_version_parse_generation_non_negative" CHECK ("file_version"."parse_generation" >= 0);