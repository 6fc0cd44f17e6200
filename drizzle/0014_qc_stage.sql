CREATE TYPE "public"."review_stage" AS ENUM('review', 'qc');--> statement-breakpoint
ALTER TYPE "public"."annotation_job_status" ADD VALUE 'awaiting_qc' BEFORE 'reviewed';--> statement-breakpoint
ALTER TABLE "project" ADD COLUMN "qc_sample_rate" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "annotation_job" ADD COLUMN "qc_sample_rate" double precision;--> statement-breakpoint
ALTER TABLE "row_review" ADD COLUMN "stage" "review_stage" DEFAULT 'review' NOT NULL;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_qc_sample_rate_range" CHECK ("project"."qc_sample_rate" BETWEEN 0 AND 1);--> statement-breakpoint
ALTER TABLE "annotation_job" ADD CONSTRAINT "annotation_job_qc_sample_rate_range" CHECK ("annotation_job"."qc_sample_rate" IS NULL OR ("annotation_job"."qc_sample_rate" > 0 AND "annotation_job"."qc_sample_rate" <= 1));