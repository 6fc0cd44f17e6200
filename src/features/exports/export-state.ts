/**
 * What a running export saves with each uploaded part (export_log.resume_state), and
 * what the rest of the feature shares about exports.
 *
 * The state names a row boundary, not a byte position inside a row: `after` is the last
 * row whose bytes end at or before the uploaded bytes, `offset` the file offset where it
 * ends. The bytes past it that already went into a part (less than one row, usually) are
 * not stored: a retry re-reads the rows after `after`, serialises them again (the format
 * is deterministic) and drops the first `uploaded − offset` bytes. So the carried-over
 * partial buffer is re-derived, never persisted, and the state stays a few hundred bytes
 * however large the parts.
 */
import { z } from "zod";

export const EXPORT_FORMATS = ["jsonl", "csv", "json"] as const;
export const EXPORT_SCOPES = ["approved", "all"] as const;
export const EXPORT_STATUSES = ["queued", "running", "succeeded", "failed"] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportScope = (typeof EXPORT_SCOPES)[number];
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
export type ExportFilters = { job_ids?: number[] | undefined; file_ids?: number[] | undefined };

/** Keyset position: rows are exported in (job_id, row_index) order. */
export type RowKey = { job_id: number; row_index: number };

const rowKeySchema = z.object({ job_id: z.number().int(), row_index: z.number().int() });

export const resumeStateSchema = z.object({
  /** Bytes per part (all but the last), fixed when the export starts. */
  part_size: z.number().int().positive(),
  /** The last row fully inside the uploaded parts; "start" before the prefix, "end" after the suffix. */
  after: z.union([z.literal("start"), z.literal("end"), rowKeySchema]),
  /** File offset where `after` ends. */
  offset: z.number().int().nonnegative(),
  /** Rows up to and including `after`. */
  rows: z.number().int().nonnegative(),
  /** The same, per file version (exported_file.row_count once done). */
  versions: z.record(z.string(), z.number().int().nonnegative()),
  /** CSV's column set; null for the JSON formats. */
  columns: z
    .object({ source: z.array(z.string()), annotation: z.array(z.string()), annotation_scalar: z.boolean() })
    .nullable(),
});

export type ResumeState = z.infer<typeof resumeStateSchema>;

export function isFinished(state: ResumeState): boolean {
  return state.after === "end";
}
