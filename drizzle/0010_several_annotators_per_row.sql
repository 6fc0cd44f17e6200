CREATE TABLE "job_submission" (
	"job_id" integer NOT NULL,
	"annotator_id" integer NOT NULL,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_submission_job_id_annotator_id_pk" PRIMARY KEY("job_id","annotator_id")
);
--> statement-breakpoint
CREATE TABLE "row_final" (
	"job_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"data" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"set_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "row_final_job_id_row_index_pk" PRIMARY KEY("job_id","row_index"),
	CONSTRAINT "row_final_row_index_non_negative" CHECK ("row_final"."row_index" >= 0),
	CONSTRAINT "row_final_version_positive" CHECK ("row_final"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "annotation_revision" DROP CONSTRAINT "annotation_revision_job_id_row_index_version_key";--> statement-breakpoint
ALTER TABLE "annotation_revision" DROP CONSTRAINT "annotation_revision_annotation_fk";
--> statement-breakpoint
ALTER TABLE "project" ADD COLUMN "annotations_per_row" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "annotation_job" ADD COLUMN "annotations_per_row" integer;--> statement-breakpoint
-- Hand-edited (several annotators per row): every existing annotation becomes the
-- response of its last editor (updated_by), or, when that account is gone (SET NULL),
-- of the latest revision's known author, else of 0 ("author unknown"); its revisions
-- follow it. Nothing is dropped: data, version, timestamps and revisions stay as they were.
ALTER TABLE "annotation" ADD COLUMN "annotator_id" integer;--> statement-breakpoint
ALTER TABLE "annotation_revision" ADD COLUMN "annotator_id" integer;--> statement-breakpoint
UPDATE "annotation" a SET "annotator_id" = coalesce(a."updated_by", (
	SELECT r."created_by" FROM "annotation_revision" r
	WHERE r."job_id" = a."job_id" AND r."row_index" = a."row_index" AND r."created_by" IS NOT NULL
	ORDER BY r."version" DESC LIMIT 1), 0);--> statement-breakpoint
UPDATE "annotation_revision" r SET "annotator_id" = a."annotator_id"
	FROM "annotation" a WHERE a."job_id" = r."job_id" AND a."row_index" = r."row_index";--> statement-breakpoint
ALTER TABLE "annotation" ALTER COLUMN "annotator_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "annotation_revision" ALTER COLUMN "annotator_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "annotation" DROP CONSTRAINT "annotation_job_id_row_index_pk";--> statement-breakpoint
ALTER TABLE "annotation" ADD CONSTRAINT "annotation_job_id_row_index_annotator_id_pk" PRIMARY KEY("job_id","row_index","annotator_id");--> statement-breakpoint
ALTER TABLE "job_submission" ADD CONSTRAINT "job_submission_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_submission" ADD CONSTRAINT "job_submission_annotator_id_user_user_id_fk" FOREIGN KEY ("annotator_id") REFERENCES "public"."user"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "row_final" ADD CONSTRAINT "row_final_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "row_final" ADD CONSTRAINT "row_final_set_by_user_user_id_fk" FOREIGN KEY ("set_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_submission_annotator_id_idx" ON "job_submission" USING btree ("annotator_id");--> statement-breakpoint
CREATE INDEX "row_final_set_by_idx" ON "row_final" USING btree ("set_by");--> statement-breakpoint
ALTER TABLE "annotation_revision" ADD CONSTRAINT "annotation_revision_annotation_fk" FOREIGN KEY ("job_id","row_index","annotator_id") REFERENCES "public"."annotation"("job_id","row_index","annotator_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "annotation_job_id_annotator_id_idx" ON "annotation" USING btree ("job_id","annotator_id");--> statement-breakpoint
ALTER TABLE "annotation_revision" ADD CONSTRAINT "annotation_revision_job_id_row_index_annotator_id_version_key" UNIQUE("job_id","row_index","annotator_id","version");--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_annotations_per_row_range" CHECK ("project"."annotations_per_row" BETWEEN 1 AND 10);--> statement-breakpoint
ALTER TABLE "annotation_job" ADD CONSTRAINT "annotation_job_annotations_per_row_range" CHECK ("annotation_job"."annotations_per_row" IS NULL OR "annotation_job"."annotations_per_row" BETWEEN 1 AND 10);--> statement-breakpoint
-- Hand-edited: jobs already submitted or reviewed count their responses' annotators as
-- having submitted, at the job's submission time (responses then carry it in exports).
INSERT INTO "job_submission" ("job_id", "annotator_id", "submitted_at")
	SELECT DISTINCT a."job_id", a."annotator_id", coalesce(j."submitted_at", j."reviewed_at", j."updated_at")
	FROM "annotation" a JOIN "annotation_job" j ON j."job_id" = a."job_id" JOIN "user" u ON u."user_id" = a."annotator_id"
	WHERE j."status" IN ('submitted', 'reviewed');
