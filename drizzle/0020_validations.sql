CREATE TABLE "project_validation_rules" (
	"project_id" integer PRIMARY KEY NOT NULL,
	"org_id" integer NOT NULL,
	"rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_validation_rules_rules_is_array" CHECK (jsonb_typeof("project_validation_rules"."rules") = 'array')
);
--> statement-breakpoint
CREATE TABLE "validation_run" (
	"validation_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "validation_run_validation_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	"table_id" integer NOT NULL,
	"rules" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"next_row" integer DEFAULT 0 NOT NULL,
	"total_rows" integer NOT NULL,
	"violation_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"requested_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "validation_run_status_known" CHECK ("validation_run"."status" IN ('queued', 'running', 'succeeded', 'failed')),
	CONSTRAINT "validation_run_progress_in_range" CHECK ("validation_run"."next_row" >= 0 AND "validation_run"."next_row" <= "validation_run"."total_rows"),
	CONSTRAINT "validation_run_violation_count_non_negative" CHECK ("validation_run"."violation_count" >= 0),
	CONSTRAINT "validation_run_rules_is_array" CHECK (jsonb_typeof("validation_run"."rules") = 'array')
);
--> statement-breakpoint
CREATE TABLE "validation_seen_value" (
	"validation_id" integer NOT NULL,
	"column" text NOT NULL,
	"value_hash" uuid NOT NULL,
	"first_row" integer NOT NULL,
	CONSTRAINT "validation_seen_value_validation_id_column_value_hash_pk" PRIMARY KEY("validation_id","column","value_hash")
);
--> statement-breakpoint
CREATE TABLE "validation_violation" (
	"validation_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"column" text NOT NULL,
	"rule" text NOT NULL,
	"value" text,
	CONSTRAINT "validation_violation_validation_id_row_index_column_rule_pk" PRIMARY KEY("validation_id","row_index","column","rule")
);
--> statement-breakpoint
ALTER TABLE "project_validation_rules" ADD CONSTRAINT "project_validation_rules_updated_by_user_user_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_validation_rules" ADD CONSTRAINT "project_validation_rules_project_fk" FOREIGN KEY ("project_id","org_id") REFERENCES "public"."project"("project_id","org_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_table_id_file_table_table_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."file_table"("table_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_requested_by_user_user_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_project_fk" FOREIGN KEY ("project_id","org_id") REFERENCES "public"."project"("project_id","org_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "validation_seen_value" ADD CONSTRAINT "validation_seen_value_validation_id_validation_run_validation_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."validation_run"("validation_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "validation_violation" ADD CONSTRAINT "validation_violation_validation_id_validation_run_validation_id_fk" FOREIGN KEY ("validation_id") REFERENCES "public"."validation_run"("validation_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "project_validation_rules_project_id_org_id_idx" ON "project_validation_rules" USING btree ("project_id","org_id");--> statement-breakpoint
CREATE INDEX "project_validation_rules_updated_by_idx" ON "project_validation_rules" USING btree ("updated_by");--> statement-breakpoint
CREATE INDEX "validation_run_project_id_org_id_idx" ON "validation_run" USING btree ("project_id","org_id");--> statement-breakpoint
CREATE INDEX "validation_run_table_id_idx" ON "validation_run" USING btree ("table_id");--> statement-breakpoint
CREATE INDEX "validation_run_requested_by_idx" ON "validation_run" USING btree ("requested_by");