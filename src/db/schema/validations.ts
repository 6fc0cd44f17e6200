/**
 * Dataset validation (features/validations): a project's rules, the runs that check a
 * table against them (a queue job, chunk by chunk over the stored rows), and the
 * violations each run found, keyed so that a chunk checked twice records nothing twice.
 */
import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { fileTable } from "./files.ts";
import { user } from "./identity.ts";
import { project } from "./projects.ts";

/** The rules' shape belongs to features/validations/validation-rules.ts. */
export type StoredValidationRule = Record<string, unknown>;

export const projectValidationRules = pgTable(
  "project_validation_rules",
  {
    project_id: integer().primaryKey(),
    org_id: integer().notNull(),
    rules: jsonb().$type<StoredValidationRule[]>().notNull().default([]),
    updated_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    foreignKey({ name: "project_validation_rules_project_fk", columns: [t.project_id, t.org_id], foreignColumns: [project.project_id, project.org_id] })
      .onDelete("cascade")
      .onUpdate("cascade"),
    index("project_validation_rules_project_id_org_id_idx").on(t.project_id, t.org_id),
    index("project_validation_rules_updated_by_idx").on(t.updated_by),
    check("project_validation_rules_rules_is_array", sql`jsonb_typeof(${t.rules}) = 'array'`),
  ],
);

export const VALIDATION_STATUSES = ["queued", "running", "succeeded", "failed"] as const;

export const validationRun = pgTable(
  "validation_run",
  {
    validation_id: identityKey(),
    project_id: integer().notNull(),
    org_id: integer().notNull(),
    table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "cascade" }),
    // The project's rules when the run was requested: editing them later does not change a run.
    rules: jsonb().$type<StoredValidationRule[]>().notNull(),
    status: text({ enum: VALIDATION_STATUSES }).notNull().default("queued"),
    // The next row_index to check: rows below it are checked and their violations stored.
    next_row: integer().notNull().default(0),
    // Rows of the table when the run was requested (progress total).
    total_rows: integer().notNull(),
    violation_count: integer().notNull().default(0),
    error: text(),
    requested_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    finished_at: timestamptz(),
  },
  (t) => [
    foreignKey({ name: "validation_run_project_fk", columns: [t.project_id, t.org_id], foreignColumns: [project.project_id, project.org_id] })
      .onDelete("cascade")
      .onUpdate("cascade"),
    index("validation_run_project_id_org_id_idx").on(t.project_id, t.org_id),
    index("validation_run_table_id_idx").on(t.table_id),
    index("validation_run_requested_by_idx").on(t.requested_by),
    check("validation_run_status_known", sql`${t.status} IN ('queued', 'running', 'succeeded', 'failed')`),
    check("validation_run_progress_in_range", sql`${t.next_row} >= 0 AND ${t.next_row} <= ${t.total_rows}`),
    check("validation_run_violation_count_non_negative", sql`${t.violation_count} >= 0`),
    check("validation_run_rules_is_array", sql`jsonb_typeof(${t.rules}) = 'array'`),
  ],
);

export const validationViolation = pgTable(
  "validation_violation",
  {
    validation_id: integer()
      .notNull()
      .references(() => validationRun.validation_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    column: text().notNull(),
    rule: text().notNull(),
    // The offending value as text (its first 1,000 characters); null when it is missing.
    value: text(),
  },
  (t) => [primaryKey({ columns: [t.validation_id, t.row_index, t.column, t.rule] })],
);

/**
 * For `unique` rules: the values seen in rows already checked (by MD5, with the first
 * row holding each), so a later chunk knows a repeat without rescanning the table.
 * Emptied when the run finishes.
 */
export const validationSeenValue = pgTable(
  "validation_seen_value",
  {
    validation_id: integer()
      .notNull()
      .references(() => validationRun.validation_id, { onDelete: "cascade" }),
    column: text().notNull(),
    value_hash: uuid().notNull(),
    first_row: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.validation_id, t.column, t.value_hash] })],
);
