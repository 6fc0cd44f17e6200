/**
 * How files and file versions look in answers. Shared: the uploads feature answers
 * `complete` with a file version, so it uses FileVersionSchema and presentFileVersion
 * too (pass it a `file_version` row as selected with `fv.*` / `returning *`).
 */
import { z } from "@hono/zod-openapi";
import { fileStatus, fileType, fileVersionStatus, language, parseStatus } from "../../db/schema/enums.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";

/** bigint columns arrive from the HTTP driver as strings. */
type Int8 = number | string;

const toNumber = (value: Int8) => Number(value);
const toNumberOrNull = (value: Int8 | null) => (value === null ? null : Number(value));

export type FileRow = {
  file_id: number;
  project_id: number;
  org_id: number;
  filename: string;
  content_type: string;
  file_type: (typeof fileType.enumValues)[number];
  status: (typeof fileStatus.enumValues)[number];
  language: (typeof language.enumValues)[number] | null;
  current_version_id: number | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

export const FileSchema = z
  .object({
    file_id: z.number().int(),
    project_id: z.number().int(),
    org_id: z.number().int(),
    filename: z.string(),
    content_type: z.string(),
    file_type: z.enum(fileType.enumValues),
    status: z.enum(fileStatus.enumValues).openapi({ description: "`pending` until the first upload completes." }),
    language: z.enum(language.enumValues).nullable(),
    current_version_id: z.number().int().nullable().openapi({ description: "The latest completed version." }),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi("File");

export type FileView = z.infer<typeof FileSchema>;

export function presentFile(row: FileRow): FileView {
  return {
    file_id: row.file_id,
    project_id: row.project_id,
    org_id: row.org_id,
    filename: row.filename,
    content_type: row.content_type,
    file_type: row.file_type,
    status: row.status,
    language: row.language,
    current_version_id: row.current_version_id,
    created_by: row.created_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    deleted_at: isoTimestamp(row.deleted_at),
  };
}

/** A `file_version` row (`fv.*`); the columns the API never shows (r2_key, parse_cursor …) may be present. */
export type FileVersionRow = {
  version_id: number;
  file_id: number;
  version_number: number | null;
  filename: string;
  size_bytes: Int8;
  sha256: string | null;
  content_type: string;
  status: (typeof fileVersionStatus.enumValues)[number];
  parse_status: (typeof parseStatus.enumValues)[number] | null;
  parse_progress_done: Int8;
  parse_progress_total: Int8 | null;
  parse_error: string | null;
  uploaded_by: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
};

export const FileVersionSchema = z
  .object({
    version_id: z.number().int(),
    file_id: z.number().int(),
    version_number: z.number().int().nullable().openapi({ description: "1, 2, … assigned when the upload completes; null while it is pending." }),
    filename: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int(),
    sha256: z.string().nullable(),
    status: z.enum(fileVersionStatus.enumValues).openapi({ description: "`pending` until the upload is completed and verified, then `ready`." }),
    parse_status: z.enum(parseStatus.enumValues).nullable().openapi({ description: "Null until the version is ready." }),
    parse_progress: z
      .object({ done: z.number().int(), total: z.number().int().nullable() })
      .openapi({ description: "Parse progress in the parser's units (bytes); total is null until known." }),
    parse_error: z.string().nullable().openapi({ description: "Why the parse failed, in words." }),
    uploaded_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable().openapi({ description: "When the upload was completed." }),
  })
  .openapi("FileVersion");

export type FileVersionView = z.infer<typeof FileVersionSchema>;

export function presentFileVersion(row: FileVersionRow): FileVersionView {
  return {
    version_id: row.version_id,
    file_id: row.file_id,
    version_number: row.version_number,
    filename: row.filename,
    content_type: row.content_type,
    size_bytes: toNumber(row.size_bytes),
    sha256: row.sha256,
    status: row.status,
    parse_status: row.parse_status,
    parse_progress: { done: toNumber(row.parse_progress_done), total: toNumberOrNull(row.parse_progress_total) },
    parse_error: row.parse_error,
    uploaded_by: row.uploaded_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    completed_at: isoTimestamp(row.completed_at),
  };
}
