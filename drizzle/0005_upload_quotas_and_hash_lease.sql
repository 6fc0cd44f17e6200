ALTER TABLE "organization" ADD COLUMN "quota_open_uploads" integer;--> statement-breakpoint
ALTER TABLE "organization" ADD COLUMN "quota_upload_bytes_per_day" bigint;--> statement-breakpoint
ALTER TABLE "organization" ADD COLUMN "quota_stored_bytes" bigint;--> statement-breakpoint
ALTER TABLE "upload" ADD COLUMN "verify_lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "upload" ADD COLUMN "hashed_etag" text;--> statement-breakpoint
ALTER TABLE "upload" ADD COLUMN "hashed_sha256" text;--> statement-breakpoint
CREATE INDEX "upload_org_id_created_at_idx" ON "upload" USING btree ("org_id","created_at");--> statement-breakpoint
ALTER TABLE "organization" ADD CONSTRAINT "organization_quotas_non_negative" CHECK ("organization"."quota_open_uploads" >= 0 AND "organization"."quota_upload_bytes_per_day" >= 0 AND "organization"."quota_stored_bytes" >= 0);--> statement-breakpoint
ALTER TABLE "upload" ADD CONSTRAINT "upload_hashed_sha256_hex" CHECK ("upload"."hashed_sha256" IS NULL OR "upload"."hashed_sha256" ~ '^[0-9a-f]{64}$');