import { sql } from "drizzle-orm";
import { boolean, check, doublePrecision, index, integer, pgTable, text, unique, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, deletedAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { projectStatus } from "./enums.ts";
import { organization, user } from "./identity.ts";

export const project = pgTable(
  "project",
  {
    project_id: identityKey(),
    org_id: integer()
      .notNull()
      .references(() => organization.org_id, { onDelete: "restrict" }),
    name: text().notNull(),
    description: text(),
    // Filled by the parser from the project's `requirement` files.
    requirements_text: text(),
    status: projectStatus().notNull().default("draft"),
    is_active: boolean().notNull().default(true),
    completed_at: timestamptz(),
    // How many annotators answer each row of its jobs (a job may override it).
    annotations_per_row: integer().notNull().default(1),
    // The share of a job's rows QC checks after a reviewer approves it; 0: no QC stage.
    qc_sample_rate: doublePrecision().notNull().default(0),
    // SET NULL: a project outlives the people who managed it.
    client_pm_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    our_pm_id: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (t) => [
    // GET /search (features/search/search.service.ts SEARCH_VECTORS repeats the expression).
    index("project_search_idx").using("gin", sql`to_tsvector('english'::regconfig, ${t.name} || ' ' || coalesce(${t.description}, ''))`),
    // Live names are unique per organization; a soft-deleted project frees its name.
    uniqueIndex("project_org_id_name_live_idx")
      .on(t.org_id, t.name)
      .where(sql`${t.deleted_at} IS NULL`),
    // Target of the composite (project_id, org_id) foreign keys of the project's children,
    // which keeps their denormalised tenant key equal to the project's.
    unique("project_project_id_org_id_key").on(t.project_id, t.org_id),
    index("project_org_id_status_idx").on(t.org_id, t.status),
    index("project_client_pm_id_idx").on(t.client_pm_id),
    index("project_our_pm_id_idx").on(t.our_pm_id),
    index("project_created_at_idx").on(t.created_at),
    index("project_updated_at_idx").on(t.updated_at),
    index("project_name_idx").on(t.name),
    check("project_annotations_per_row_range", sql`${t.annotations_per_row} BETWEEN 1 AND 10`),
    check("project_qc_sample_rate_range", sql`${t.qc_sample_rate} BETWEEN 0 AND 1`),
    check("project_name_not_blank", sql`length(btrim(${t.name})) > 0`),
    check("project_completed_after_creation", sql`${t.completed_at} IS NULL OR ${t.completed_at} >= ${t.created_at}`),
  ],
);
