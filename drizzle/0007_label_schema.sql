CREATE TABLE "label_schema" (
	"project_id" integer PRIMARY KEY NOT NULL,
	"schema_version" integer DEFAULT 1 NOT NULL,
	"questions" jsonb NOT NULL,
	"updated_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "label_schema_version_positive" CHECK ("label_schema"."schema_version" >= 1),
	CONSTRAINT "label_schema_questions_array" CHECK (jsonb_typeof("label_schema"."questions") = 'array')
);
--> statement-breakpoint
ALTER TABLE "label_schema" ADD CONSTRAINT "label_schema_project_id_project_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("project_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_schema" ADD CONSTRAINT "label_schema_updated_by_user_user_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."user"("user_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "label_schema_updated_by_idx" ON "label_schema" USING btree ("updated_by");