CREATE INDEX "project_search_idx" ON "project" USING gin (to_tsvector('english'::regconfig, "name" || ' ' || coalesce("description", '')));--> statement-breakpoint
CREATE INDEX "file_search_idx" ON "file" USING gin (to_tsvector('english'::regconfig, "filename"));--> statement-breakpoint
CREATE INDEX "annotation_job_search_idx" ON "annotation_job" USING gin (to_tsvector('english'::regconfig, "name" || ' ' || coalesce("instructions", '')));--> statement-breakpoint
CREATE INDEX "comment_search_idx" ON "comment" USING gin (to_tsvector('english'::regconfig, "body"));