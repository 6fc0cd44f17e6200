CREATE TYPE "public"."actor_kind" AS ENUM('user', 'api_token', 'system');--> statement-breakpoint
CREATE TYPE "public"."annotation_job_status" AS ENUM('not_started', 'in_progress', 'submitted', 'reviewed');--> statement-breakpoint
CREATE TYPE "public"."assignment_role" AS ENUM('annotator', 'reviewer', 'qc');--> statement-breakpoint
CREATE TYPE "public"."export_format" AS ENUM('jsonl', 'csv', 'json');--> statement-breakpoint
CREATE TYPE "public"."export_scope" AS ENUM('approved', 'all');--> statement-breakpoint
CREATE TYPE "public"."export_status" AS ENUM('queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."file_status" AS ENUM('pending', 'ready_for_annotation', 'in_progress', 'completed', 'archived');--> statement-breakpoint
CREATE TYPE "public"."file_type" AS ENUM('dataset', 'requirement', 'report', 'llm_output');--> statement-breakpoint
CREATE TYPE "public"."file_version_status" AS ENUM('pending', 'ready');--> statement-breakpoint
CREATE TYPE "public"."idempotency_status" AS ENUM('in_progress', 'completed');--> statement-breakpoint
CREATE TYPE "public"."job_priority" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
CREATE TYPE "public"."language" AS ENUM('en', 'zh', 'fr', 'de', 'es', 'ar');--> statement-breakpoint
CREATE TYPE "public"."organization_kind" AS ENUM('platform', 'client');--> statement-breakpoint
CREATE TYPE "public"."parse_status" AS ENUM('queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."project_status" AS ENUM('draft', 'ready_for_annotation', 'in_progress', 'completed', 'archived');--> statement-breakpoint
CREATE TYPE "public"."review_status" AS ENUM('pending', 'approved', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."upload_status" AS ENUM('pending', 'completed', 'aborted');--> statement-breakpoint
CREATE TABLE "api_token" (
	"token_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_token_token_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"token_hash" text NOT NULL,
	"last_used_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_token_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "api_token_expires_after_creation" CHECK ("api_token"."expires_at" IS NULL OR "api_token"."expires_at" > "api_token"."created_at")
);
--> statement-breakpoint
CREATE TABLE "organization" (
	"org_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "organization_org_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" "organization_kind" DEFAULT 'client' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "organization_name_unique" UNIQUE("name"),
	CONSTRAINT "organization_name_not_blank" CHECK (length(btrim("organization"."name")) > 0)
);
--> statement-breakpoint
CREATE TABLE "permission" (
	"permission_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "permission_permission_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "permission_name_unique" UNIQUE("name"),
	CONSTRAINT "permission_name_shape" CHECK ("permission"."name" ~ '^[a-z_]+:[a-z_]+$')
);
--> statement-breakpoint
CREATE TABLE "refresh_token" (
	"token_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "refresh_token_token_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"family_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"parent_token_id" integer,
	"expires_at" timestamp with time zone NOT NULL,
	"rotated_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refresh_token_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "refresh_token_expires_after_creation" CHECK ("refresh_token"."expires_at" > "refresh_token"."created_at")
);
--> statement-breakpoint
CREATE TABLE "role" (
	"role_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "role_role_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"org_kind" "organization_kind" NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "role_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "role_permission" (
	"role_id" integer NOT NULL,
	"permission_id" integer NOT NULL,
	CONSTRAINT "role_permission_role_id_permission_id_pk" PRIMARY KEY("role_id","permission_id")
);
--> statement-breakpoint
CREATE TABLE "user" (
	"user_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "user_user_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"org_id" integer NOT NULL,
	"email" text NOT NULL,
	"full_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "user_email_unique" UNIQUE("email"),
	CONSTRAINT "user_email_lower_case" CHECK ("user"."email" = lower("user"."email")),
	CONSTRAINT "user_email_shape" CHECK ("user"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$')
);
--> statement-breakpoint
CREATE TABLE "user_role" (
	"user_id" integer NOT NULL,
	"role_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_role_user_id_role_id_pk" PRIMARY KEY("user_id","role_id")
);
--> statement-breakpoint
CREATE TABLE "project" (
	"project_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "project_project_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"org_id" integer NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"requirements_text" text,
	"status" "project_status" DEFAULT 'draft' NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"completed_at" timestamp with time zone,
	"client_pm_id" integer,
	"our_pm_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "project_project_id_org_id_key" UNIQUE("project_id","org_id"),
	CONSTRAINT "project_name_not_blank" CHECK (length(btrim("project"."name")) > 0),
	CONSTRAINT "project_completed_after_creation" CHECK ("project"."completed_at" IS NULL OR "project"."completed_at" >= "project"."created_at")
);
--> statement-breakpoint
CREATE TABLE "file" (
	"file_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "file_file_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	"filename" text NOT NULL,
	"content_type" text NOT NULL,
	"file_type" "file_type" NOT NULL,
	"status" "file_status" DEFAULT 'pending' NOT NULL,
	"language" "language",
	"current_version_id" integer,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "file_filename_not_blank" CHECK (length(btrim("file"."filename")) > 0)
);
--> statement-breakpoint
CREATE TABLE "file_table" (
	"table_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "file_table_table_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"version_id" integer NOT NULL,
	"name" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"columns" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"row_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "file_table_version_id_position_key" UNIQUE("version_id","position"),
	CONSTRAINT "file_table_position_non_negative" CHECK ("file_table"."position" >= 0),
	CONSTRAINT "file_table_row_count_non_negative" CHECK ("file_table"."row_count" >= 0),
	CONSTRAINT "file_table_columns_is_array" CHECK (jsonb_typeof("file_table"."columns") = 'array')
);
--> statement-breakpoint
CREATE TABLE "file_table_row" (
	"table_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "file_table_row_table_id_row_index_pk" PRIMARY KEY("table_id","row_index"),
	CONSTRAINT "file_table_row_row_index_non_negative" CHECK ("file_table_row"."row_index" >= 0),
	CONSTRAINT "file_table_row_data_is_object" CHECK (jsonb_typeof("file_table_row"."data") = 'object')
);
--> statement-breakpoint
CREATE TABLE "file_version" (
	"version_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "file_version_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"file_id" integer NOT NULL,
	"version_number" integer,
	"filename" text NOT NULL,
	"r2_key" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text,
	"content_type" text NOT NULL,
	"status" "file_version_status" DEFAULT 'pending' NOT NULL,
	"parse_status" "parse_status",
	"parse_progress_done" bigint DEFAULT 0 NOT NULL,
	"parse_progress_total" bigint,
	"parse_error" text,
	"uploaded_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "file_version_r2_key_unique" UNIQUE("r2_key"),
	CONSTRAINT "file_version_file_id_version_number_key" UNIQUE("file_id","version_number"),
	CONSTRAINT "file_version_size_bytes_non_negative" CHECK ("file_version"."size_bytes" >= 0),
	CONSTRAINT "file_version_version_number_positive" CHECK ("file_version"."version_number" IS NULL OR "file_version"."version_number" >= 1),
	CONSTRAINT "file_version_sha256_hex" CHECK ("file_version"."sha256" IS NULL OR "file_version"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "file_version_parse_progress_in_range" CHECK ("file_version"."parse_progress_done" >= 0 AND ("file_version"."parse_progress_total" IS NULL OR "file_version"."parse_progress_done" <= "file_version"."parse_progress_total")),
	CONSTRAINT "file_version_ready_is_numbered" CHECK ("file_version"."status" = 'pending' OR ("file_version"."version_number" IS NOT NULL AND "file_version"."completed_at" IS NOT NULL)),
	CONSTRAINT "file_version_parse_after_upload" CHECK ("file_version"."status" = 'ready' OR "file_version"."parse_status" IS NULL),
	CONSTRAINT "file_version_completed_after_creation" CHECK ("file_version"."completed_at" IS NULL OR "file_version"."completed_at" >= "file_version"."created_at")
);
--> statement-breakpoint
CREATE TABLE "upload" (
	"upload_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "upload_upload_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	"file_id" integer NOT NULL,
	"version_id" integer NOT NULL,
	"r2_key" text NOT NULL,
	"multipart_upload_id" text,
	"part_size" integer,
	"size_bytes" bigint NOT NULL,
	"content_type" text NOT NULL,
	"sha256" text,
	"status" "upload_status" DEFAULT 'pending' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "upload_version_id_unique" UNIQUE("version_id"),
	CONSTRAINT "upload_size_bytes_non_negative" CHECK ("upload"."size_bytes" >= 0),
	CONSTRAINT "upload_part_size_positive" CHECK ("upload"."part_size" IS NULL OR "upload"."part_size" > 0),
	CONSTRAINT "upload_sha256_hex" CHECK ("upload"."sha256" IS NULL OR "upload"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "upload_expires_after_creation" CHECK ("upload"."expires_at" > "upload"."created_at"),
	CONSTRAINT "upload_completed_after_creation" CHECK ("upload"."completed_at" IS NULL OR "upload"."completed_at" >= "upload"."created_at")
);
--> statement-breakpoint
CREATE TABLE "annotation" (
	"job_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"data" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "annotation_job_id_row_index_pk" PRIMARY KEY("job_id","row_index"),
	CONSTRAINT "annotation_row_index_non_negative" CHECK ("annotation"."row_index" >= 0),
	CONSTRAINT "annotation_version_positive" CHECK ("annotation"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "annotation_job" (
	"job_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "annotation_job_job_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"table_id" integer NOT NULL,
	"name" text NOT NULL,
	"status" "annotation_job_status" DEFAULT 'not_started' NOT NULL,
	"priority" "job_priority" DEFAULT 'medium' NOT NULL,
	"due_date" date,
	"estimated_hours" numeric(8, 2),
	"row_start" integer NOT NULL,
	"row_end" integer NOT NULL,
	"instructions" text,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"submitted_at" timestamp with time zone,
	"reviewed_at" timestamp with time zone,
	CONSTRAINT "annotation_job_name_not_blank" CHECK (length(btrim("annotation_job"."name")) > 0),
	CONSTRAINT "annotation_job_estimated_hours_positive" CHECK ("annotation_job"."estimated_hours" IS NULL OR "annotation_job"."estimated_hours" > 0),
	CONSTRAINT "annotation_job_row_start_non_negative" CHECK ("annotation_job"."row_start" >= 0),
	CONSTRAINT "annotation_job_row_range_ordered" CHECK ("annotation_job"."row_start" <= "annotation_job"."row_end"),
	CONSTRAINT "annotation_job_due_not_before_creation" CHECK ("annotation_job"."due_date" IS NULL OR "annotation_job"."due_date" >= ("annotation_job"."created_at" AT TIME ZONE 'UTC')::date),
	CONSTRAINT "annotation_job_submitted_after_creation" CHECK ("annotation_job"."submitted_at" IS NULL OR "annotation_job"."submitted_at" >= "annotation_job"."created_at"),
	CONSTRAINT "annotation_job_reviewed_after_creation" CHECK ("annotation_job"."reviewed_at" IS NULL OR "annotation_job"."reviewed_at" >= "annotation_job"."created_at")
);
--> statement-breakpoint
CREATE TABLE "annotation_revision" (
	"revision_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "annotation_revision_revision_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"job_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"version" integer NOT NULL,
	"data" jsonb NOT NULL,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "annotation_revision_job_id_row_index_version_key" UNIQUE("job_id","row_index","version"),
	CONSTRAINT "annotation_revision_version_positive" CHECK ("annotation_revision"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "assignment" (
	"assignment_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "assignment_assignment_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"job_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"role" "assignment_role" NOT NULL,
	"assigned_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "assignment_job_id_user_id_role_key" UNIQUE("job_id","user_id","role")
);
--> statement-breakpoint
CREATE TABLE "comment" (
	"comment_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "comment_comment_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"job_id" integer NOT NULL,
	"parent_comment_id" integer,
	"author_id" integer,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "comment_comment_id_job_id_key" UNIQUE("comment_id","job_id"),
	CONSTRAINT "comment_body_not_blank" CHECK (length(btrim("comment"."body")) > 0)
);
--> statement-breakpoint
CREATE TABLE "review" (
	"review_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "review_review_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"job_id" integer NOT NULL,
	"reviewer_id" integer,
	"status" "review_status" DEFAULT 'pending' NOT NULL,
	"comments" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_log" (
	"event_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "event_log_event_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" integer,
	"project_id" integer,
	"actor_id" integer,
	"actor_kind" "actor_kind" DEFAULT 'user' NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" bigint NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_log_action_shape" CHECK ("event_log"."action" ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$')
);
--> statement-breakpoint
CREATE TABLE "idempotency_key" (
	"caller" text NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" "idempotency_status" DEFAULT 'in_progress' NOT NULL,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone DEFAULT now() + interval '24 hours' NOT NULL,
	CONSTRAINT "idempotency_key_caller_key_pk" PRIMARY KEY("caller","key"),
	CONSTRAINT "idempotency_key_key_length" CHECK (char_length("idempotency_key"."key") BETWEEN 1 AND 255),
	CONSTRAINT "idempotency_key_completed_has_response" CHECK ("idempotency_key"."status" = 'in_progress' OR ("idempotency_key"."response_status" IS NOT NULL AND "idempotency_key"."response_status" BETWEEN 100 AND 599)),
	CONSTRAINT "idempotency_key_expires_after_creation" CHECK ("idempotency_key"."expires_at" > "idempotency_key"."created_at")
);
--> statement-breakpoint
CREATE TABLE "export_log" (
	"export_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "export_log_export_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	"requested_by" integer,
	"format" "export_format" NOT NULL,
	"scope" "export_scope" DEFAULT 'approved' NOT NULL,
	"filters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" "export_status" DEFAULT 'queued' NOT NULL,
	"progress_done" bigint DEFAULT 0 NOT NULL,
	"progress_total" bigint,
	"r2_key" text,
	"multipart_upload_id" text,
	"uploaded_parts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"row_count" bigint DEFAULT 0 NOT NULL,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"sha256" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "export_log_r2_key_unique" UNIQUE("r2_key"),
	CONSTRAINT "export_log_progress_in_range" CHECK ("export_log"."progress_done" >= 0 AND ("export_log"."progress_total" IS NULL OR "export_log"."progress_done" <= "export_log"."progress_total")),
	CONSTRAINT "export_log_row_count_non_negative" CHECK ("export_log"."row_count" >= 0),
	CONSTRAINT "export_log_size_bytes_non_negative" CHECK ("export_log"."size_bytes" >= 0),
	CONSTRAINT "export_log_sha256_hex" CHECK ("export_log"."sha256" IS NULL OR "export_log"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "export_log_filters_is_object" CHECK (jsonb_typeof("export_log"."filters") = 'object'),
	CONSTRAINT "export_log_uploaded_parts_is_array" CHECK (jsonb_typeof("export_log"."uploaded_parts") = 'array'),
	CONSTRAINT "export_log_completed_after_creation" CHECK ("export_log"."completed_at" IS NULL OR "export_log"."completed_at" >= "export_log"."created_at")
);
--> statement-breakpoint
CREATE TABLE "exported_file" (
	"export_id" integer NOT NULL,
	"file_version_id" integer NOT NULL,
	"row_count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "exported_file_export_id_file_version_id_pk" PRIMARY KEY("export_id","file_version_id"),
	CONSTRAINT "exported_file_row_count_non_negative" CHECK ("exported_file"."row_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_user_id_user_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_token" ADD CONSTRAINT "refresh_token_user_id_user_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_token" ADD CONSTRAINT "refresh_token_parent_token_id_refresh_token_token_id_fk" FOREIGN KEY ("parent_token_id") REFERENCES "public"."refresh_token"("token_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_permission" ADD CONSTRAINT "role_permission_role_id_role_role_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."role"("role_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_permission" ADD CONSTRAINT "role_permission_permission_id_permission_permission_id_fk" FOREIGN KEY ("permission_id") REFERENCES "public"."permission"("permission_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user" ADD CONSTRAINT "user_org_id_organization_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organization"("org_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_role" ADD CONSTRAINT "user_role_user_id_user_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_role" ADD CONSTRAINT "user_role_role_id_role_role_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."role"("role_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_org_id_organization_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organization"("org_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_client_pm_id_user_user_id_fk" FOREIGN KEY ("client_pm_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project" ADD CONSTRAINT "project_our_pm_id_user_user_id_fk" FOREIGN KEY ("our_pm_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file" ADD CONSTRAINT "file_current_version_id_file_version_version_id_fk" FOREIGN KEY ("current_version_id") REFERENCES "public"."file_version"("version_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file" ADD CONSTRAINT "file_created_by_user_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file" ADD CONSTRAINT "file_project_fk" FOREIGN KEY ("project_id","org_id") REFERENCES "public"."project"("project_id","org_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "file_table" ADD CONSTRAINT "file_table_version_id_file_version_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."file_version"("version_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_table_row" ADD CONSTRAINT "file_table_row_table_id_file_table_table_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."file_table"("table_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_version" ADD CONSTRAINT "file_version_file_id_file_file_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."file"("file_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_version" ADD CONSTRAINT "file_version_uploaded_by_user_user_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload" ADD CONSTRAINT "upload_file_id_file_file_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."file"("file_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload" ADD CONSTRAINT "upload_version_id_file_version_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."file_version"("version_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload" ADD CONSTRAINT "upload_created_by_user_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload" ADD CONSTRAINT "upload_project_fk" FOREIGN KEY ("project_id","org_id") REFERENCES "public"."project"("project_id","org_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "annotation" ADD CONSTRAINT "annotation_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation" ADD CONSTRAINT "annotation_updated_by_user_user_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation_job" ADD CONSTRAINT "annotation_job_project_id_project_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("project_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation_job" ADD CONSTRAINT "annotation_job_table_id_file_table_table_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."file_table"("table_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation_job" ADD CONSTRAINT "annotation_job_created_by_user_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation_revision" ADD CONSTRAINT "annotation_revision_created_by_user_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "annotation_revision" ADD CONSTRAINT "annotation_revision_annotation_fk" FOREIGN KEY ("job_id","row_index") REFERENCES "public"."annotation"("job_id","row_index") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_user_id_user_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_assigned_by_user_user_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comment" ADD CONSTRAINT "comment_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comment" ADD CONSTRAINT "comment_author_id_user_user_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comment" ADD CONSTRAINT "comment_parent_fk" FOREIGN KEY ("parent_comment_id","job_id") REFERENCES "public"."comment"("comment_id","job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review" ADD CONSTRAINT "review_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review" ADD CONSTRAINT "review_reviewer_id_user_user_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_log" ADD CONSTRAINT "event_log_org_id_organization_org_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organization"("org_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_log" ADD CONSTRAINT "event_log_project_id_project_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("project_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_log" ADD CONSTRAINT "event_log_actor_id_user_user_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "export_log" ADD CONSTRAINT "export_log_requested_by_user_user_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "export_log" ADD CONSTRAINT "export_log_project_fk" FOREIGN KEY ("project_id","org_id") REFERENCES "public"."project"("project_id","org_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "exported_file" ADD CONSTRAINT "exported_file_export_id_export_log_export_id_fk" FOREIGN KEY ("export_id") REFERENCES "public"."export_log"("export_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "exported_file" ADD CONSTRAINT "exported_file_file_version_id_file_version_version_id_fk" FOREIGN KEY ("file_version_id") REFERENCES "public"."file_version"("version_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_token_user_id_idx" ON "api_token" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "organization_single_platform_idx" ON "organization" USING btree ("kind") WHERE "organization"."kind" = 'platform';--> statement-breakpoint
CREATE INDEX "organization_created_at_idx" ON "organization" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "refresh_token_user_id_idx" ON "refresh_token" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "refresh_token_family_id_idx" ON "refresh_token" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "refresh_token_parent_token_id_idx" ON "refresh_token" USING btree ("parent_token_id");--> statement-breakpoint
CREATE INDEX "refresh_token_expires_at_idx" ON "refresh_token" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "role_permission_permission_id_idx" ON "role_permission" USING btree ("permission_id");--> statement-breakpoint
CREATE INDEX "user_org_id_idx" ON "user" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "user_created_at_idx" ON "user" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "user_role_role_id_idx" ON "user_role" USING btree ("role_id");--> statement-breakpoint
CREATE UNIQUE INDEX "project_org_id_name_live_idx" ON "project" USING btree ("org_id","name") WHERE "project"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "project_org_id_status_idx" ON "project" USING btree ("org_id","status");--> statement-breakpoint
CREATE INDEX "project_client_pm_id_idx" ON "project" USING btree ("client_pm_id");--> statement-breakpoint
CREATE INDEX "project_our_pm_id_idx" ON "project" USING btree ("our_pm_id");--> statement-breakpoint
CREATE INDEX "project_created_at_idx" ON "project" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "project_updated_at_idx" ON "project" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "project_name_idx" ON "project" USING btree ("name");--> statement-breakpoint
CREATE INDEX "file_project_id_org_id_idx" ON "file" USING btree ("project_id","org_id");--> statement-breakpoint
CREATE INDEX "file_project_id_file_type_idx" ON "file" USING btree ("project_id","file_type");--> statement-breakpoint
CREATE INDEX "file_current_version_id_idx" ON "file" USING btree ("current_version_id");--> statement-breakpoint
CREATE INDEX "file_created_by_idx" ON "file" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "file_created_at_idx" ON "file" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "file_version_uploaded_by_idx" ON "file_version" USING btree ("uploaded_by");--> statement-breakpoint
CREATE INDEX "upload_project_id_org_id_idx" ON "upload" USING btree ("project_id","org_id");--> statement-breakpoint
CREATE INDEX "upload_file_id_idx" ON "upload" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "upload_created_by_idx" ON "upload" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "upload_status_expires_at_idx" ON "upload" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "annotation_updated_by_idx" ON "annotation" USING btree ("updated_by");--> statement-breakpoint
CREATE INDEX "annotation_job_project_id_status_idx" ON "annotation_job" USING btree ("project_id","status");--> statement-breakpoint
CREATE INDEX "annotation_job_project_id_priority_idx" ON "annotation_job" USING btree ("project_id","priority");--> statement-breakpoint
CREATE INDEX "annotation_job_due_date_idx" ON "annotation_job" USING btree ("due_date");--> statement-breakpoint
CREATE INDEX "annotation_job_table_id_idx" ON "annotation_job" USING btree ("table_id");--> statement-breakpoint
CREATE INDEX "annotation_job_created_by_idx" ON "annotation_job" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "annotation_job_created_at_idx" ON "annotation_job" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "annotation_revision_created_by_idx" ON "annotation_revision" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "assignment_user_id_job_id_idx" ON "assignment" USING btree ("user_id","job_id");--> statement-breakpoint
CREATE INDEX "assignment_assigned_by_idx" ON "assignment" USING btree ("assigned_by");--> statement-breakpoint
CREATE INDEX "comment_job_id_parent_comment_id_idx" ON "comment" USING btree ("job_id","parent_comment_id");--> statement-breakpoint
CREATE INDEX "comment_author_id_idx" ON "comment" USING btree ("author_id");--> statement-breakpoint
CREATE INDEX "review_job_id_created_at_idx" ON "review" USING btree ("job_id","created_at");--> statement-breakpoint
CREATE INDEX "review_reviewer_id_idx" ON "review" USING btree ("reviewer_id");--> statement-breakpoint
CREATE INDEX "event_log_entity_type_entity_id_idx" ON "event_log" USING btree ("entity_type","entity_id","event_id");--> statement-breakpoint
CREATE INDEX "event_log_actor_id_idx" ON "event_log" USING btree ("actor_id","event_id");--> statement-breakpoint
CREATE INDEX "event_log_org_id_idx" ON "event_log" USING btree ("org_id","event_id");--> statement-breakpoint
CREATE INDEX "event_log_project_id_idx" ON "event_log" USING btree ("project_id","event_id");--> statement-breakpoint
CREATE INDEX "event_log_action_idx" ON "event_log" USING btree ("action","event_id");--> statement-breakpoint
CREATE INDEX "event_log_created_at_idx" ON "event_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "idempotency_key_expires_at_idx" ON "idempotency_key" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "export_log_project_id_org_id_idx" ON "export_log" USING btree ("project_id","org_id");--> statement-breakpoint
CREATE INDEX "export_log_requested_by_idx" ON "export_log" USING btree ("requested_by");--> statement-breakpoint
CREATE INDEX "export_log_created_at_idx" ON "export_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "exported_file_file_version_id_idx" ON "exported_file" USING btree ("file_version_id");