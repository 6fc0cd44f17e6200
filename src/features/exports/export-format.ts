/**
 * How an export's rows become bytes, per format. Deterministic: the same rows always
 * give the same bytes, which is what lets a retried export regenerate the tail of its
 * file from a saved keyset cursor and land byte-identical to a clean run.
 *
 * Each row's text (a JSON object, or a CSV record) is rendered by PostgreSQL in the
 * chunk query itself (rowLineSql), and the writer only adds separators:
 * - JSON values are the jsonb text as stored (`data::text`), never parsed and
 *   re-serialised in JavaScript: numbers keep every digit (a JS number would round
 *   12345678901234567890).
 * - One text column per row instead of a dozen: measured through the Neon HTTP path,
 *   a 5,000-row chunk arrives about twice as fast, and the Worker spends its CPU on
 *   bytes, not on building strings.
 */
import { sql, type SQL } from "drizzle-orm";
import { attachmentDisposition } from "../../storage/content-disposition.ts";
import type { ExportFormat } from "./export-state.ts";

/** One exported row as the chunk query reads it: its keyset position, its file version, its text. */
export type ExportRow = { job_id: number; row_index: number; version_id: number; line: string };

/**
 * The CSV column set, decided once when the export starts (from the tables' declared
 * columns and a pass over the annotation keys) and saved with the export, so a retry
 * writes exactly the same header and cells.
 */
export type CsvColumns = {
  /** Source columns: each table's declared columns, tables in the order of their first job, first occurrence wins. */
  source: string[];
  /** Top-level keys of object annotations, in byte order. */
  annotation: string[];
  /** Whether some annotation's data is not an object (a bare label, an array …): then an `annotation` column holds its JSON. */
  annotation_scalar: boolean;
};

export const CSV_LEADING_COLUMNS = ["job_id", "table_id", "file_id", "version_id", "row_index"] as const;
export const CSV_TRAILING_COLUMNS = ["status", "annotator_id", "annotated_at", "reviewer_id", "reviewed_at", "responses", "final", "agreed"] as const;

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8; header=present",
  json: "application/json; charset=utf-8",
};

export function contentTypeOf(format: ExportFormat): string {
  return CONTENT_TYPES[format];
}

/** The name a downloaded export is saved under. */
export function exportFilename(file: { export_id: number; project_id: number; format: ExportFormat }): string {
  return `project-${file.project_id}-export-${file.export_id}.${file.format}`;
}

/** The object's own metadata, so a download straight from the bucket is typed and named too. */
export function httpMetadataOf(file: { export_id: number; project_id: number; format: ExportFormat }): R2HTTPMetadata {
  return { contentType: contentTypeOf(file.format), contentDisposition: attachmentDisposition(exportFilename(file)) };
}

/**
 * The columns the row text is made of, as SQL over the chunk query's aliases: `j` (the
 * job, with `reviewer_id` and `reviewed_at` of its approving review, and `version_id` and
 * `file_id` of its table), `r` (file_table_row), `a` (the row's responses: responses/export-responses.ts;
 * `annotation`, `annotator_id` and `annotated_at` are its most recently saved response).
 */
const utcIso = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const jsonOrNull = (text: SQL) => sql`coalesce(${text}, 'null')`;
const jsonStringOrNull = (text: SQL) => sql`coalesce('"' || ${text} || '"', 'null')`;

/**
 * `{job_id, table_id, file_id, version_id, row_index, data, annotation, status,
 * annotator_id, annotated_at, reviewer_id, reviewed_at, responses, final, agreed}` in this order, no whitespace
 * between members (the jsonb text inside `data` and `annotation` keeps PostgreSQL's own
 * `": "` and `", "`). The strings spliced in unescaped (status, timestamps) never hold a
 * character JSON would escape.
 */
const JSON_OBJECT = sql`'{"job_id":' || j.job_id || ',"table_id":' || j.table_id || ',"file_id":' || j.file_id
  || ',"version_id":' || j.version_id || ',"row_index":' || r.row_index || ',"data":' || r.data::text
  || ',"annotation":' || ${jsonOrNull(sql`a.data::text`)} || ',"status":"' || j.status::text || '"'
  || ',"annotator_id":' || ${jsonOrNull(sql`a.updated_by::text`)} || ',"annotated_at":' || ${jsonStringOrNull(utcIso(sql`a.updated_at`))}
  || ',"reviewer_id":' || ${jsonOrNull(sql`j.reviewer_id::text`)} || ',"reviewed_at":' || ${jsonStringOrNull(utcIso(sql`j.reviewed_at`))}
  || ',"responses":' || a.responses::text || ',"final":' || ${jsonOrNull(sql`a.final::text`)} || ',"agreed":' || a.agreed::text
  || '}'`;

/**
 * RFC 4180 field: quoted when it holds a quote, comma, CR or LF, and when it is the empty
 * string, so an empty string (`""`) stays distinct from a missing value (nothing), the
 * convention PostgreSQL's COPY … CSV also follows.
 *
 * Formula neutralisation (OWASP "CSV injection"): a cell whose text starts with `=`, `+`,
 * `-`, `@`, tab or CR would run as a formula in a spreadsheet, so it gets a leading `'`
 * and is always quoted (`"'=SUM(A1)"`). The one exception is a JSON number (`-2`,
 * `-0.25`, `-1e-7`): a spreadsheet reads it as the number it is, never as a formula, so
 * it stays as is. A string `"-2"` is still prefixed: a string cell is text, whatever it
 * looks like. `jsonType` is the value's jsonb_typeof. csvField (the header, whose names
 * are strings) is the same rule in JavaScript, byte for byte.
 */
function csvFieldSql(text: SQL, jsonType: SQL): SQL {
  return sql`(case when ${text} is null then ''
    when ${text} ~ '^[-=+@\t\r]' and ${jsonType} is distinct from 'number' then '"''' || replace(${text}, '"', '""') || '"'
    when ${text} = '' or ${text} ~ '[",\r\n]' then '"' || replace(${text}, '"', '""') || '"' else ${text} end)`;
}

const FORMULA_START = /^[-=+@\t\r]/;

export function csvField(value: string): string {
  if (FORMULA_START.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  if (value === "" || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/**
 * Cells: ids as numbers; a source column or annotation key holding a string, its text
 * (formula-neutralised, see csvFieldSql); a number or boolean, its JSON text; an object or array, its JSON (jsonb's text form);
 * null or missing, an empty field. `annotation` holds the JSON of an annotation that is
 * not an object.
 */
function csvRecordSql(columns: CsvColumns): SQL {
  const cells = [
    sql`j.job_id::text`,
    sql`j.table_id::text`,
    sql`j.file_id::text`,
    sql`j.version_id::text`,
    sql`r.row_index::text`,
    ...columns.source.map((name) => csvFieldSql(sql`(r.data ->> ${name}::text)`, sql`jsonb_typeof(r.data -> ${name}::text)`)),
    ...columns.annotation.map((key) =>
      csvFieldSql(sql`(case when jsonb_typeof(a.data) = 'object' then a.data ->> ${key}::text end)`, sql`jsonb_typeof(a.data -> ${key}::text)`)),
    // A string's JSON text starts with `"`: only a negative number starts with `-` here, and it stays.
    ...(columns.annotation_scalar ? [csvFieldSql(sql`(case when jsonb_typeof(a.data) <> 'object' then a.data::text end)`, sql`jsonb_typeof(a.data)`)] : []),
    sql`j.status::text`,
    sql`coalesce(a.updated_by::text, '')`,
    sql`coalesce(${utcIso(sql`a.updated_at`)}, '')`,
    sql`coalesce(j.reviewer_id::text, '')`,
    sql`coalesce(${utcIso(sql`j.reviewed_at`)}, '')`,
    csvFieldSql(sql`a.responses::text`, sql`'array'`),
    csvFieldSql(sql`a.final::text`, sql`jsonb_typeof(a.final)`),
    sql`a.agreed::text`,
  ];
  return sql.join(cells, sql` || ',' || `);
}

/** The SQL expression for one row's text in `format` (without its line break or separator). */
export function rowLineSql(format: ExportFormat, columns: CsvColumns | null): SQL {
  if (format !== "csv") return JSON_OBJECT;
  if (!columns) throw new Error("a CSV export needs its column set");
  return csvRecordSql(columns);
}

export function csvHeader(columns: CsvColumns): string[] {
  return [
    ...CSV_LEADING_COLUMNS,
    ...columns.source,
    ...columns.annotation.map((key) => `annotation.${key}`),
    ...(columns.annotation_scalar ? ["annotation"] : []),
    ...CSV_TRAILING_COLUMNS,
  ];
}

/**
 * The file is prefix + one piece per row + suffix. A piece may depend on whether it is
 * the first row (JSON's separators) and the suffix on whether any row was written, both
 * of which a resumed run knows from its saved state. Lines end in LF for JSONL, CRLF for
 * CSV (RFC 4180).
 */
export type Layout = {
  prefix(): string;
  row(line: string, first: boolean): string;
  suffix(rowsWritten: number): string;
};

export function layoutOf(format: ExportFormat, columns: CsvColumns | null): Layout {
  switch (format) {
    case "jsonl":
      return { prefix: () => "", row: (line) => `${line}\n`, suffix: () => "" };
    case "json":
      return {
        prefix: () => "[",
        row: (line, first) => `${first ? "\n" : ",\n"}${line}`,
        suffix: (rowsWritten) => (rowsWritten > 0 ? "\n]\n" : "]\n"),
      };
    case "csv": {
      if (!columns) throw new Error("a CSV export needs its column set");
      return { prefix: () => `${csvHeader(columns).map(csvField).join(",")}\r\n`, row: (line) => `${line}\r\n`, suffix: () => "" };
    }
  }
}
