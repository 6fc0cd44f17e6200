CREATE TABLE "draft_run" (
	"draft_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "draft_run_draft_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"table_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	"project_id" integer NOT NULL,
	"questions" jsonb NOT NULL,
	"instructions" text,
	"model" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"row_start" integer NOT NULL,
	"row_end" integer NOT NULL,
	"next_row" integer NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"total" integer NOT NULL,
	"invalid" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"invalid_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "draft_run_rows_in_order" CHECK (0 <= "draft_run"."row_start" AND "draft_run"."row_start" <= "draft_run"."row_end" AND "draft_run"."row_start" <= "draft_run"."next_row"),
	CONSTRAINT "draft_run_progress_in_range" CHECK (0 <= "draft_run"."done" AND "draft_run"."done" <= "draft_run"."total")
);
--> statement-breakpoint
CREATE TABLE "suggestion_import" (
	"version_id" integer PRIMARY KEY NOT NULL,
	"target_table_id" integer NOT NULL,
	"imported" integer DEFAULT 0 NOT NULL,
	"invalid" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suggestion_import_counts_non_negative" CHECK ("suggestion_import"."imported" >= 0 AND "suggestion_import"."invalid" >= 0)
);
--> statement-breakpoint
ALTER TABLE "draft_run" ADD CONSTRAINT "draft_run_table_id_file_table_table_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."file_table"("table_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "draft_run" ADD CONSTRAINT "draft_run_created_by_user_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggestion_import" ADD CONSTRAINT "suggestion_import_version_id_file_version_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."file_version"("version_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggestion_import" ADD CONSTRAINT "suggestion_import_target_table_id_file_table_table_id_fk" FOREIGN KEY ("target_table_id") REFERENCES "public"."file_table"("table_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "draft_run_table_id_idx" ON "draft_run" USING btree ("table_id");--> statement-breakpoint
CREATE INDEX "draft_run_created_by_idx" ON "draft_run" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "suggestion_import_target_table_id_idx" ON "suggestion_import" USING btree ("target_table_id");