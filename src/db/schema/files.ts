/**
 * Files, their immutable versions (one R2 object each), the tables a parse extracts from
 * a version, and the pending presigned uploads that create versions.
 *
 * Documents (PDF, TXT, Markdown) are stored the same way as datasets: their text becomes
 * a file_table (e.g. columns page, paragraph, text) so one rows API serves both.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
} from "drizzle-orm/pg-core";
import { byteCount, createdAt, deletedAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { fileStatus, fileType, fileVersionStatus, language, parseStatus, uploadStatus } from "./enums.ts";
import { user } from "./identity.ts";
import { project } from "./projects.ts";

const sha256Shape = (column: AnyPgColumn) => sql`${column} IS NULL OR ${column} ~ '^[0-9a-f]{64}$'`;

export const file = pgTable(
  "file",
  {
    file_id: identityKey(),
    project_id: integer().notNull(),
    // Denormalised tenant key (the project's org_id, kept equal by the composite FK) so
    // tenancy predicates need no join.
    org_id: integer().notNull(),
    filename: text().notNull(),
    content_type: text().notNull(),
    file_type: fileType().notNull(),
    status: fileStatus().notNull().default("pending"),
    language: language(),
    // SET NULL: deleting the current version leaves the file without one rather than
    // deleting the file. Circular with file_version.file_id, hence the lazy reference.
    current_version_id: integer().references((): AnyPgColumn => fileVersion.version_id, { onDelete: "set null" }),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (t) => [
    // GET /search (features/search/search.service.ts SEARCH_VECTORS repeats the expression).
    index("file_search_idx").using("gin", sql`to_tsvector('english'::regconfig, ${t.filename})`),
    foreignKey({
      name: "file_project_fk",
      columns: [t.project_id, t.org_id],
      foreignColumns: [project.project_id, project.org_id],
    })
      .onDelete("cascade")
      .onUpdate("cascade"),
    index("file_project_id_org_id_idx").on(t.project_id, t.org_id),
    index("file_project_id_file_type_idx").on(t.project_id, t.file_type),
    index("file_current_version_id_idx").on(t.current_version_id),
    index("file_created_by_idx").on(t.created_by),
    index("file_created_at_idx").on(t.created_at),
    check("file_filename_not_blank", sql`length(btrim(${t.filename})) > 0`),
  ],
);

export const fileVersion = pgTable(
  "file_version",
  {
    version_id: identityKey(),
    file_id: integer()
      .notNull()
      .references(() => file.file_id, { onDelete: "cascade" }),
    // Assigned when the upload completes (max + 1 within the file, guarded by the unique
    // key), so abandoned uploads leave no gaps in the numbering.
    version_number: integer(),
    filename: text().notNull(),
    r2_key: text().notNull().unique(),
    // Declared at upload creation; `complete` checks the object in R2 has exactly this size.
    size_bytes: byteCount().notNull(),
    sha256: text(),
    content_type: text().notNull(),
    status: fileVersionStatus().notNull().default("pending"),
    parse_status: parseStatus(),
    parse_progress_done: byteCount().notNull().default(0),
    parse_progress_total: byteCount(),
    parse_error: text(),
    // Bumped by every reparse request. Queue messages and file_tables carry the generation
    // they belong to, so work for a superseded parse is recognised and dropped.
    parse_generation: integer().notNull().default(0),
    // Where the running parse stands (features/parsing/cursor.ts): byte offset, next row
    // index, column statistics. Written in the same statement as each chunk's rows, which
    // is what makes a redelivered or replayed chunk message detectable and harmless.
    parse_cursor: jsonb().$type<Record<string, unknown>>(),
    uploaded_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    completed_at: timestamptz(),
  },
  (t) => [
    unique("file_version_file_id_version_number_key").on(t.file_id, t.version_number),
    index("file_version_uploaded_by_idx").on(t.uploaded_by),
    check("file_version_size_bytes_non_negative", sql`${t.size_bytes} >= 0`),
    check("file_version_version_number_positive", sql`${t.version_number} IS NULL OR ${t.version_number} >= 1`),
    check("file_version_sha256_hex", sha256Shape(t.sha256)),
    check(
      "file_version_parse_progress_in_range",
      sql`${t.parse_progress_done} >= 0 AND (${t.parse_progress_total} IS NULL OR ${t.parse_progress_done} <= ${t.parse_progress_total})`,
    ),
    check(
      "file_version_ready_is_numbered",
      sql`${t.status} = 'pending' OR (${t.version_number} IS NOT NULL AND ${t.completed_at} IS NOT NULL)`,
    ),
    check("file_version_parse_after_upload", sql`${t.status} = 'ready' OR ${t.parse_status} IS NULL`),
    check("file_version_parse_generation_non_negative", sql`${t.parse_generation} >= 0`),
    check("file_version_completed_after_creation", sql`${t.completed_at} IS NULL OR ${t.completed_at} >= ${t.created_at}`),
  ],
);

/** `columns` is `[{ name, type, nullable }]` in source order. */
/** Postgres `tsvector`, read as its text form (never selected by the API). */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

export type FileTableColumn = { name: string; type: string; nullable: boolean };

/**
 * building: being filled by a parse, invisible to readers. active: the version's current
 * tables. superseded: replaced by a reparse but kept because annotation jobs still point
 * at them (tables nothing refers to are deleted at the swap).
 */
export const FILE_TABLE_STATES = ["building", "active", "superseded"] as const;
export type FileTableState = (typeof FILE_TABLE_STATES)[number];

export const fileTable = pgTable(
  "file_table",
  {
    table_id: identityKey(),
    version_id: integer()
      .notNull()
      .references(() => fileVersion.version_id, { onDelete: "cascade" }),
    name: text().notNull(),
    // The parse generation that built this table (file_version.parse_generation).
    generation: integer().notNull().default(0),
    // Sheet index within a workbook (0 for single-table formats); unique per version and
    // generation so a re-delivered parse message finds its table instead of duplicating it.
    position: integer().notNull().default(0),
    state: text({ enum: FILE_TABLE_STATES }).notNull().default("active"),
    columns: jsonb().$type<FileTableColumn[]>().notNull().default([]),
    row_count: integer().notNull().default(0),
    // Column statistics computed while the table was parsed (features/dataset-profile);
    // null for tables parsed before profiles existed.
    profile: jsonb().$type<Record<string, unknown>>(),
    // The text search configuration its rows' vectors were built with (the file's language
    // when its parse began; features/search/text-search.ts): queries parse `q` with it.
    search_config: text().notNull().default("english"),
    created_at: createdAt(),
    updated_at: updatedAt(),
  },
  (t) => [
    unique("file_table_version_id_generation_position_key").on(t.version_id, t.generation, t.position),
    check("file_table_position_non_negative", sql`${t.position} >= 0`),
    check("file_table_generation_non_negative", sql`${t.generation} >= 0`),
    check("file_table_state_known", sql`${t.state} IN ('building', 'active', 'superseded')`),
    check("file_table_row_count_non_negative", sql`${t.row_count} >= 0`),
    check("file_table_columns_is_array", sql`jsonb_typeof(${t.columns}) = 'array'`),
    check("file_table_search_config_known", sql`${t.search_config} IN ('simple', 'english', 'french', 'german', 'spanish', 'arabic')`),
  ],
);

/** One parsed row, `data` keyed by column name. Keyed by position so re-parsing upserts. */
export const fileTableRow = pgTable(
  "file_table_row",
  {
    table_id: integer()
      .notNull()
      .references(() => fileTable.table_id, { onDelete: "cascade" }),
    row_index: integer().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    // The row's string cells as a text search vector, built by the parse's INSERT in its
    // table's search_config; null only for rows written outside a parse (test fixtures).
    search: tsvector(),
  },
  (t) => [
    primaryKey({ columns: [t.table_id, t.row_index] }),
    // fastupdate, stated because the parse's cost depends on it: a parse's inserts append
    // their entries to the pending list instead of updating the tree lexeme by lexeme, and
    // autovacuum or a full list (4 MiB) merges them in bulk: about half the index's cost per
    // parsed row of fastupdate off; a 64 MiB list measured no cheaper (README "Search").
    index("file_table_row_search_idx").using("gin", t.search).with({ fastupdate: true }),
    check("file_table_row_row_index_non_negative", sql`${t.row_index} >= 0`),
    check("file_table_row_data_is_object", sql`jsonb_typeof(${t.data}) = 'object'`),
  ],
);

/** A presigned upload in flight: created with its pending file_version, closed by `complete`. */
export const upload = pgTable(
  "upload",
  {
    upload_id: identityKey(),
    project_id: integer().notNull(),
    org_id: integer().notNull(),
    file_id: integer()
      .notNull()
      .references(() => file.file_id, { onDelete: "cascade" }),
    version_id: integer()
      .notNull()
      .unique()
      .references(() => fileVersion.version_id, { onDelete: "cascade" }),
    r2_key: text().notNull(),
    // Set for multipart uploads (above the size threshold), NULL for a single PUT.
    multipart_upload_id: text(),
    part_size: integer(),
    size_bytes: byteCount().notNull(),
    content_type: text().notNull(),
    sha256: text(),
    status: uploadStatus().notNull().default("pending"),
    // `complete` claims the upload until then before hashing its object, so concurrent
    // completes never hash the same object twice (they answer 409 meanwhile).
    verify_lease_until: timestamptz(),
    // The object (by ETag) a `complete` last hashed, and the SHA-256 it found when that
    // did not match the declared one: a retry on the same object answers without hashing.
    hashed_etag: text(),
    hashed_sha256: text(),
    expires_at: timestamptz().notNull(),
    completed_at: timestamptz(),
    created_by: integer().references(() => user.user_id, { onDelete: "set null" }),
    created_at: createdAt(),
  },
  (t) => [
    foreignKey({
      name: "upload_project_fk",
      columns: [t.project_id, t.org_id],
      foreignColumns: [project.project_id, project.org_id],
    })
      .onDelete("cascade")
      .onUpdate("cascade"),
    index("upload_project_id_org_id_idx").on(t.project_id, t.org_id),
    index("upload_file_id_idx").on(t.file_id),
    index("upload_created_by_idx").on(t.created_by),
    // Sweeps for expired pending uploads (abort their multipart uploads in R2).
    index("upload_status_expires_at_idx").on(t.status, t.expires_at),
    // Quota usage per organization, summed in the statement that creates an upload.
    index("upload_org_id_created_at_idx").on(t.org_id, t.created_at),
    check("upload_size_bytes_non_negative", sql`${t.size_bytes} >= 0`),
    check("upload_part_size_positive", sql`${t.part_size} IS NULL OR ${t.part_size} > 0`),
    check("upload_sha256_hex", sha256Shape(t.sha256)),
    check("upload_hashed_sha256_hex", sha256Shape(t.hashed_sha256)),
    check("upload_expires_after_creation", sql`${t.expires_at} > ${t.created_at}`),
    check("upload_completed_after_creation", sql`${t.completed_at} IS NULL OR ${t.completed_at} >= ${t.created_at}`),
  ],
);
