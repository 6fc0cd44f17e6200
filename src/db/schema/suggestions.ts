/**
 * Suggestions (pre-annotations): what an agent (a model, an import, a person's tool)
 * proposes as the answer to one label-schema question on one row of a parsed table.
 * They belong to the table's rows, not to a job, so every job and project over the
 * table sees them. One value per (table, row, question, agent): a new one replaces it.
 */
import { sql } from "drizzle-orm";
import { check, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt, identityKey, updatedAt } from "./columns.ts";
import { user } from "./identity.ts";
import { fileTable, fileVersion } from "./files.ts";

export const suggestion = pgTable(
  "suggestion",
  {
    table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    question: text().notNull(),
    agent: text().notNull(),
    value: jsonb().notNull(),
    score: doublePrecision(),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    // The key also serves items' lookups: (table_id, row_index) is its prefix.
    primaryKey({ name: "suggestion_pk", columns: [t.table_id, t.row_index, t.question, t.agent] }),
    check("suggestion_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("suggestion_agent_not_blank", sql`length(btrim(${t.agent})) > 0`),
  ],
);

/**
 * An `llm_output` file version's import into a table's suggestions (features/suggestions/
 * llm-output-import.ts): the target named at upload, and what the parse consumer made
 * of the lines so far: counts and the first invalid lines (line number and problem).
 * Updated in the statement that commits each chunk, so redelivered chunks count once.
 */
export const suggestionImport = pgTable(
  "suggestion_import",
  {
    version_id: integer()
      .primaryKey()
      .references(() => fileVersion.version_id, { onDelete: "cascade" }),
    target_table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "cascade" }),
    imported: integer().notNull().default(0),
    invalid: integer().notNull().default(0),
    errors: jsonb().$type<{ line: number; message: string }[]>().notNull().default([]),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    index("suggestion_import_target_table_id_idx").on(t.target_table_id),
    check("suggestion_import_counts_non_negative", sql`${t.imported} >= 0 AND ${t.invalid} >= 0`),
  ],
);

export const DRAFT_STATUSES = ["queued", "running", "succeeded", "failed"] as const;

/**
 * A drafting run (features/drafts/): a model answers `questions` for rows
 * row_start..row_end of a table, in batches, written as suggestions with agent = the
 * model. `next_row` is where the run stands: each batch's suggestions, its invalid
 * answers and the advanced `next_row` commit in one statement conditional on the old
 * `next_row`, so a redelivered message resumes there and never asks the model again for
 * rows already done.
 */
export const draftRun = pgTable(
  "draft_run",
  {
    draft_id: identityKey(),
    table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "cascade" }),
    // Tenancy and audit keys: the organization and project of the table's file.
    org_id: integer().notNull(),
    project_id: integer().notNull(),
    questions: jsonb().$type<string[]>().notNull(),
    instructions: text(),
    model: text().notNull(),
    status: text({ enum: DRAFT_STATUSES }).notNull().default("queued"),
    row_start: integer().notNull(),
    row_end: integer().notNull(),
    next_row: integer().notNull(),
    done: integer().notNull().default(0),
    total: integer().notNull(),
    invalid: jsonb().$type<{ row_index: number; question: string | null; message: string }[]>().notNull().default([]),
    invalid_count: integer().notNull().default(0),
    error: text(),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    index("draft_run_table_id_idx").on(t.table_id),
    index("draft_run_created_by_idx").on(t.created_by),
    check("draft_run_rows_in_order", sql`0 <= ${t.row_start} AND ${t.row_start} <= ${t.row_end} AND ${t.row_start} <= ${t.next_row}`),
    check("draft_run_progress_in_range", sql`0 <= ${t.done} AND ${t.done} <= ${t.total}`),
  ],
);
