ALTER TABLE "file_table" ADD COLUMN "search_config" text DEFAULT 'english' NOT NULL;--> statement-breakpoint
ALTER TABLE "file_table_row" ADD COLUMN "search" "tsvector";--> statement-breakpoint
-- Hand-written backfill (README "Search"): existing tables take their file's language as
-- a parse would (src/features/search/text-search.ts searchConfigOf), then every existing
-- row gets its vector as the parse's INSERT builds it (rowSearchVector). The rows are
-- rewritten in this one UPDATE, inside the migration's transaction: about 0.1 ms of
-- database CPU per row (1,000,000 rows ≈ 2 minutes), writers of file_table_row wait for it
-- (readers do not), and the table doubles on disk until vacuumed. The index is built after
-- the backfill, in one sorted pass, which is far cheaper than maintaining it row by row.
UPDATE "file_table" t SET "search_config" = (CASE f."language" WHEN 'en' THEN 'english' WHEN 'fr' THEN 'french'
  WHEN 'de' THEN 'german' WHEN 'es' THEN 'spanish' WHEN 'ar' THEN 'arabic' WHEN 'zh' THEN 'simple' ELSE 'english' END)
FROM "file_version" v JOIN "file" f ON f."file_id" = v."file_id"
WHERE v."version_id" = t."version_id" AND f."language" IS NOT NULL;--> statement-breakpoint
UPDATE "file_table_row" r SET "search" = (CASE WHEN pg_column_size(r."data") <= 524288 THEN to_tsvector(t."search_config"::regconfig, r."data")
  ELSE to_tsvector(t."search_config"::regconfig, left((SELECT string_agg(cell.value #>> '{}', ' ') FROM jsonb_each(r."data") cell
    WHERE jsonb_typeof(cell.value) = 'string'), 524288)) END)
FROM "file_table" t WHERE t."table_id" = r."table_id";--> statement-breakpoint
CREATE INDEX "file_table_row_search_idx" ON "file_table_row" USING gin ("search") WITH (fastupdate=true);--> statement-breakpoint
ALTER TABLE "file_table" ADD CONSTRAINT "file_table_search_config_known" CHECK ("file_table"."search_config" IN ('simple', 'english', 'french', 'german', 'spanish', 'arabic'));
