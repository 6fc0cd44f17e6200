ALTER TABLE "export_log" ADD COLUMN "resume_state" jsonb;--> statement-breakpoint
ALTER TABLE "export_log" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "export_log" ADD COLUMN "lease_expires_at" timestamp with time zone;