CREATE TABLE "suggestion" (
	"table_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"question" text NOT NULL,
	"agent" text NOT NULL,
	"value" jsonb NOT NULL,
	"score" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suggestion_pk" PRIMARY KEY("table_id","row_index","question","agent"),
	CONSTRAINT "suggestion_row_index_non_negative" CHECK ("suggestion"."row_index" >= 0),
	CONSTRAINT "suggestion_agent_not_blank" CHECK (length(btrim("suggestion"."agent")) > 0)
);
--> statement-breakpoint
ALTER TABLE "suggestion" ADD CONSTRAINT "suggestion_table_id_file_table_table_id_fk" FOREIGN KEY ("table_id") REFERENCES "public"."file_table"("table_id") ON DELETE cascade ON UPDATE no action;