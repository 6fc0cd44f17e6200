CREATE TYPE "public"."row_verdict" AS ENUM('accepted', 'rejected');--> statement-breakpoint
CREATE TABLE "row_review" (
	"job_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"verdict" "row_verdict" NOT NULL,
	"reason" text,
	"reviewer_id" integer,
	"rejections" integer DEFAULT 0 NOT NULL,
	"returned_after_revision" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "row_review_job_id_row_index_pk" PRIMARY KEY("job_id","row_index"),
	CONSTRAINT "row_review_row_index_non_negative" CHECK ("row_review"."row_index" >= 0),
	CONSTRAINT "row_review_rejections_non_negative" CHECK ("row_review"."rejections" >= 0)
);
--> statement-breakpoint
ALTER TABLE "row_review" ADD CONSTRAINT "row_review_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "row_review" ADD CONSTRAINT "row_review_reviewer_id_user_user_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "row_review_reviewer_id_idx" ON "row_review" USING btree ("reviewer_id");