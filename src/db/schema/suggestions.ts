/**
 * Suggestions (pre-annotations): what an agent (a model, an import, a person's tool)
 * proposes as the answer to one label-schema question on one row of a parsed table.
 * They belong to the table's rows, not to a job, so every job and project over the
 * table sees them. One value per (table, row, question, agent): a new one replaces it.
 */
import { sql } from "drizzle-orm";
import { check, doublePrecision, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns.ts";
import { fileTable } from "./files.ts";

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
