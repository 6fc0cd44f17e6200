/**
 * Exports of annotation results back to the client: the export job (streamed to R2 by
 * the export queue consumer, resumable from its saved parts) and which file versions
 * went into it.
 */
import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { byteCount, createdAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { exportFormat, exportScope, exportStatus } from "./enums.ts";
import { fileVersion } from "./files.ts";
import { user } from "./identity.ts";
import { project } from "./projects.ts";

export type ExportFilters = { job_ids?: number[]; file_ids?: number[] };
export type UploadedPart = { part_number: number; etag: string };
/** Where a running export stands; its shape belongs to features/exports/export-state.ts. */
export type ExportResumeState = Record<string, unknown>;

export const exportLog = pgTable(
  "export_log",
  {
    export_id: identityKey(),
    project_id: integer().notNull(),
    // Denormalised tenant key, kept equal to the project's by the composite FK.
    org_id: integer().notNull(),
    requested_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    format: exportFormat().notNull(),
    scope: exportScope().notNull().default("approved"),
    filters: jsonb().$type<ExportFilters>().notNull().default({}),
    status: exportStatus().notNull().default("queued"),
    progress_done: byteCount().notNull().default(0),
    progress_total: byteCount(),
    r2_key: text().unique(),
    // Multipart upload state, saved per chunk so a retried message resumes where it stopped.
    multipart_upload_id: text(),
    uploaded_parts: jsonb().$type<UploadedPart[]>().notNull().default([]),
    // Keyset cursor, byte offsets and per-version counts as of the last saved part:
    // saved with each part, so a retry regenerates the rest of the file byte for byte.
    resume_state: jsonb().$type<ExportResumeState>(),
    // Which delivery is writing the export (its queue message id) and until when its
    // claim holds; renewed with every part. A duplicate delivery leaves a live claim alone.
    lease_owner: text(),
    lease_expires_at: timestamptz(),
    // Rows and bytes written so far; final once status is succeeded.
    row_count: byteCount().notNull().default(0),
    size_bytes: byteCount().notNull().default(0),
    sha256: text(),
    error: text(),
    created_at: createdAt(),
    updated_at: updatedAt(),
    completed_at: timestamptz(),
  },
  (t) => [
    foreignKey({
      name: "export_log_project_fk",
      columns: [t.project_id, t.org_id],
      foreignColumns: [project.project_id, project.org_id],
    })
      .onDelete("cascade")
      .onUpdate("cascade"),
    index("export_log_project_id_org_id_idx").on(t.project_id, t.org_id),
    index("export_log_requested_by_idx").on(t.requested_by),
    index("export_log_created_at_idx").on(t.created_at),
    check(
      "export_log_progress_in_range",
      sql`${t.progress_done} >= 0 AND (${t.progress_total} IS NULL OR ${t.progress_done} <= ${t.progress_total})`,
    ),
    check("export_log_row_count_non_negative", sql`${t.row_count} >= 0`),
    check("export_log_size_bytes_non_negative", sql`${t.size_bytes} >= 0`),
    check("export_log_sha256_hex", sql`${t.sha256} IS NULL OR ${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("export_log_filters_is_object", sql`jsonb_typeof(${t.filters}) = 'object'`),
    check("export_log_uploaded_parts_is_array", sql`jsonb_typeof(${t.uploaded_parts}) = 'array'`),
    check("export_log_completed_after_creation", sql`${t.completed_at} IS NULL OR ${t.completed_at} >= ${t.created_at}`),
  ],
);

export const exportedFile = pgTable(
  "exported_file",
  {
    export_id: integer()
      .notNull()
      .references(() => exportLog.export_id, { onDelete: "cascade" }),
    // NO ACTION (restrict, checked at the end of the statement): a version that was
    // exported cannot be purged on its own, since the record of what went out must
    // survive; purging the whole project removes both sides in one statement.
    file_version_id: integer()
      .notNull()
      .references(() => fileVersion.version_id, { onDelete: "no action" }),
    row_count: byteCount().notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.export_id, t.file_version_id] }),
    index("exported_file_file_version_id_idx").on(t.file_version_id),
    check("exported_file_row_count_non_negative", sql`${t.row_count} >= 0`),
  ],
);
