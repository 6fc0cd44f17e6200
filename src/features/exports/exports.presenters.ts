import { z } from "@hono/zod-openapi";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { EXPORT_FORMATS, EXPORT_SCOPES, EXPORT_STATUSES, type ExportFilters, type ExportFormat, type ExportScope, type ExportStatus } from "./export-state.ts";

export const ExportSchema = z
  .object({
    export_id: z.number().int(),
    project_id: z.number().int(),
    status: z.enum(EXPORT_STATUSES).openapi({ description: "queued → running → succeeded | failed." }),
    format: z.enum(EXPORT_FORMATS),
    scope: z.enum(EXPORT_SCOPES),
    filters: z.object({ job_ids: z.array(z.number().int()).optional(), file_ids: z.array(z.number().int()).optional() }),
    progress: z.object({
      done: z.number().int().openapi({ description: "Rows written so far." }),
      total: z.number().int().nullable().openapi({ description: "Rows to write; null until the export has started." }),
    }),
    row_count: z.number().int(),
    size_bytes: z.number().int(),
    sha256: z.string().nullable().openapi({ description: "SHA-256 (hex) of the file, once succeeded." }),
    error: z.string().nullable().openapi({ description: "Why the export failed; null unless status is failed." }),
    download_url: z.string().nullable().openapi({ description: "Presigned GET of the file, once succeeded; short-lived: read the export again for a fresh one." }),
    download_expires_at: z.string().nullable(),
    requested_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi("Export");

export type ExportView = z.infer<typeof ExportSchema>;

export type ExportRow = {
  export_id: number;
  project_id: number;
  status: ExportStatus;
  format: ExportFormat;
  scope: ExportScope;
  filters: ExportFilters;
  progress_done: string | number;
  progress_total: string | number | null;
  row_count: string | number;
  size_bytes: string | number;
  sha256: string | null;
  error: string | null;
  r2_key: string | null;
  requested_by: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
};

export type Download = { url: string; expires_at: string } | null;

export function presentExport(row: ExportRow, download: Download): ExportView {
  return {
    export_id: row.export_id,
    project_id: row.project_id,
    status: row.status,
    format: row.format,
    scope: row.scope,
    filters: row.filters,
    progress: { done: Number(row.progress_done), total: row.progress_total === null ? null : Number(row.progress_total) },
    row_count: Number(row.row_count),
    size_bytes: Number(row.size_bytes),
    sha256: row.sha256,
    // While retrying, `error` holds the last attempt's failure; it is the answer only once the export has failed.
    error: row.status === "failed" ? row.error : null,
    download_url: download?.url ?? null,
    download_expires_at: download?.expires_at ?? null,
    requested_by: row.requested_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    completed_at: isoTimestamp(row.completed_at),
  };
}
