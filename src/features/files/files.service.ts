import { sql, type SQL } from "drizzle-orm";
import type { PermissionName } from "../../db/seed/catalog.ts";
import { fileVisible, projectVisible } from "../../lib/access.ts";
import { ApiError } from "../../lib/errors.ts";
import { staleVersion } from "../../lib/etag.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { assertMayIncludeDeleted, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { updateAudit, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { softDelete, type SoftDeletable } from "../../lib/soft-delete.ts";
import { runWrite } from "../../lib/write.ts";
import { can, type Principal } from "../auth/principal.ts";
import {
  presentFile,
  presentFileVersion,
  type FileRow,
  type FileVersionRow,
  type FileVersionView,
  type FileView,
} from "./files.presenters.ts";

const FILE_FIELDS = ["file_id", "project_id", "org_id", "filename", "content_type", "file_type", "status", "language",
  "current_version_id", "created_by", "created_at", "updated_at", "deleted_at"] as const satisfies readonly (keyof FileRow)[];

// Never r2_key or parse_cursor: storage layout and parser state stay inside.
const VERSION_FIELDS = ["version_id", "file_id", "version_number", "filename", "size_bytes", "sha256", "content_type", "status",
  "parse_status", "parse_progress_done", "parse_progress_total", "parse_error", "uploaded_by", "created_at", "updated_at",
  "completed_at"] as const satisfies readonly (keyof FileVersionRow)[];

function columns(alias: string, fields: readonly string[]): SQL {
  return sql.raw(fields.map((field) => `${alias}.${field}`).join(", "));
}

/**
 * A file exists for the caller when the access policy shows it, it is live, and so is
 * its project (deleting a project hides its files; restoring it brings them back).
 * Platform admins asking for include_deleted see deleted files and files of deleted
 * projects as well.
 */
function fileReachable(principal: Principal, alias: string, includeDeleted: boolean): SQL {
  if (includeDeleted) return fileVisible(principal, alias);
  const f = sql.raw(alias);
  return sql`${fileVisible(principal, alias)} and ${f}.deleted_at is null
    and exists (select 1 from project file_project where file_project.project_id = ${f}.project_id and file_project.deleted_at is null)`;
}

export type VersionedFile = { file: FileView; version: string };
export type VersionedFileVersion = { fileVersion: FileVersionView; version: string };

function deny(permission: PermissionName): never {
  throw new ApiError("forbidden", `Your role does not allow this (${permission} is required).`);
}

const fileNotFoundDetail = (fileId: number) => `File ${fileId} does not exist.`;
const fileNotFound = (fileId: number) => new ApiError("not_found", fileNotFoundDetail(fileId));

const FILE: SoftDeletable = { entity: "file", table: "file", alias: "f", key: "file_id", scope: ["org_id", "project_id"] };

/** The live file as the caller may reach it (alias `f`). */
function reachableFile(principal: Principal, fileId: number): SQL {
  return sql`select f.* from file f where f.file_id = ${fileId} and ${fileReachable(principal, "f", false)}`;
}

/** For callers without the permission: 403 if they can see the file, 404 if not. */
async function refuse(ctx: AuthenticatedContext, fileId: number, permission: PermissionName): Promise<never> {
  const result = await ctx.db.execute(sql`select 1 from (${reachableFile(ctx.principal, fileId)}) f`);
  if (result.rows.length > 0) deny(permission);
  throw fileNotFound(fileId);
}

// ---------------------------------------------------------------- project files

const FILE_SORT: Record<string, SortColumn> = {
  filename: { sql: sql`f.filename`, kind: "text" },
  created_at: { sql: sql`f.created_at`, kind: "timestamp" },
  updated_at: { sql: sql`f.updated_at`, kind: "timestamp" },
};

export type ListFilesQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  file_type?: FileRow["file_type"] | undefined;
  status?: FileRow["status"] | undefined;
  include_deleted: boolean;
};

/**
 * One statement answers both "does the project exist for you" (404 otherwise) and the
 * page: the project row left-joined to its page of files.
 */
export async function listProjectFiles(ctx: AuthenticatedContext, projectId: number, query: ListFilesQuery): Promise<Page<FileView>> {
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, FILE_SORT, sql`f.file_id`, query.cursor);
  const conditions = [
    sql`f.project_id = target.project_id`,
    fileReachable(ctx.principal, "f", query.include_deleted),
    query.file_type === undefined ? sql`true` : sql`f.file_type = ${query.file_type}::file_type`,
    query.status === undefined ? sql`true` : sql`f.status = ${query.status}::file_status`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`
    with target as (
      select p.project_id from project p
      where p.project_id = ${projectId} and ${projectVisible(ctx.principal, "p")}
        ${query.include_deleted ? sql`` : sql`and p.deleted_at is null`}
    )
    select target.project_id as target_project_id, f.*
    from target left join lateral (
      select ${columns("f", FILE_FIELDS)} from file f
      where ${sql.join(conditions, sql` and `)}
      order by ${page.orderBy} limit ${query.limit + 1}
    ) f on true
    order by ${page.orderBy}`);
  const rows = result.rows as (FileRow & { target_project_id: number; file_id: number | null })[];
  if (rows.length === 0) throw new ApiError("not_found", `Project ${projectId} does not exist.`);
  // Staff see the projects of their jobs but hold no file:read.
  if (!can(ctx.principal, "file:read")) deny("file:read");
  const files = rows.filter((row) => row.file_id !== null);
  return toPage(files, query.limit, query.sort, (row) => ({ value: row[page.field as keyof FileRow], id: row.file_id }), presentFile);
}

// ---------------------------------------------------------------- one file

export async function getFile(ctx: AuthenticatedContext, fileId: number, options: { include_deleted: boolean }): Promise<VersionedFile> {
  assertMayIncludeDeleted(ctx.principal, options.include_deleted);
  const result = await ctx.db.execute(sql`select ${columns("f", FILE_FIELDS)} from file f
    where f.file_id = ${fileId} and ${fileReachable(ctx.principal, "f", options.include_deleted)}`);
  const row = result.rows[0] as FileRow | undefined;
  if (!row) throw fileNotFound(fileId);
  if (!can(ctx.principal, "file:read")) deny("file:read");
  return { file: presentFile(row), version: row.updated_at };
}

export type UpdateFileInput = {
  filename?: string | undefined;
  status?: Exclude<FileRow["status"], "pending"> | undefined;
  language?: FileRow["language"] | undefined;
};

const UPDATABLE: Record<keyof UpdateFileInput, string> = { filename: "text", status: "file_status", language: "language" };

/**
 * One statement: lock the reachable row, check If-Match against it, update only when
 * something changes, audit the changed fields, answer with the row.
 */
export async function updateFile(ctx: AuthenticatedContext, fileId: number, input: UpdateFileInput, version: string | null): Promise<VersionedFile> {
  if (!can(ctx.principal, "file:update")) await refuse(ctx, fileId, "file:update");
  const assignments: SQL[] = [];
  const differences: SQL[] = [];
  for (const [field, type] of Object.entries(UPDATABLE)) {
    const value = input[field as keyof UpdateFileInput];
    if (value === undefined) continue;
    const typed = sql`${value}::${sql.raw(type)}`;
    assignments.push(sql`${sql.raw(field)} = ${typed}`);
    differences.push(sql`target.${sql.raw(field)} is distinct from ${typed}`);
  }
  const [rows = []] = await runWrite(ctx, [
    sql`with target as (
        ${reachableFile(ctx.principal, fileId)} for update of f
      ), checks as (
        select target.file_id, ${versionMatches(sql`target.updated_at`, version)} as version_ok,
          ${differences.length > 0 ? sql.join(differences, sql` or `) : sql`false`} as changed
        from target
      ), updated as (
        update file f set ${sql.join([...assignments, sql`updated_at = now()`], sql`, `)}
        from checks where f.file_id = checks.file_id and checks.version_ok and checks.changed
        returning f.*
      ), audited as (
        ${updateAudit(ctx, FILE)}
      ), result as (
        select * from updated
        union all
        select * from target where not exists (select 1 from updated)
      )
      select checks.version_ok, ${columns("result", FILE_FIELDS)}
      from checks join result on true`,
  ]);
  const row = rows[0] as (FileRow & { version_ok: boolean }) | undefined;
  if (!row) throw fileNotFound(fileId);
  if (!row.version_ok) throw staleVersion();
  return { file: presentFile(row), version: row.updated_at };
}

export async function deleteFile(ctx: AuthenticatedContext, fileId: number, version: string | null): Promise<void> {
  if (!can(ctx.principal, "file:delete")) await refuse(ctx, fileId, "file:delete");
  await softDelete(ctx, FILE, { target: reachableFile(ctx.principal, fileId), version, notFound: fileNotFoundDetail(fileId) });
}

// ---------------------------------------------------------------- versions

const VERSION_SORT: Record<string, SortColumn> = { created_at: { sql: sql`fv.created_at`, kind: "timestamp" } };

export type ListVersionsQuery = { limit: number; cursor?: string | undefined; sort: string };

/** Every version of the file, pending uploads included (their version_number is still null). */
export async function listFileVersions(ctx: AuthenticatedContext, fileId: number, query: ListVersionsQuery): Promise<Page<FileVersionView>> {
  const page = typedKeyset(query.sort, VERSION_SORT, sql`fv.version_id`, query.cursor);
  const result = await ctx.db.execute(sql`
    with target as (
      select f.file_id from file f where f.file_id = ${fileId} and ${fileReachable(ctx.principal, "f", false)}
    )
    select target.file_id as target_file_id, fv.*
    from target left join lateral (
      select ${columns("fv", VERSION_FIELDS)} from file_version fv
      where fv.file_id = target.file_id and ${page.where}
      order by ${page.orderBy} limit ${query.limit + 1}
    ) fv on true
    order by ${page.orderBy}`);
  const rows = result.rows as (FileVersionRow & { version_id: number | null })[];
  if (rows.length === 0) throw fileNotFound(fileId);
  if (!can(ctx.principal, "file:read")) deny("file:read");
  const versions = rows.filter((row) => row.version_id !== null);
  return toPage(versions, query.limit, query.sort, (row) => ({ value: row.created_at, id: row.version_id }), presentFileVersion);
}

export async function getFileVersion(ctx: AuthenticatedContext, versionId: number): Promise<VersionedFileVersion> {
  const result = await ctx.db.execute(sql`select ${columns("fv", VERSION_FIELDS)} from file_version fv
    join file f on f.file_id = fv.file_id
    where fv.version_id = ${versionId} and ${fileReachable(ctx.principal, "f", false)}`);
  const row = result.rows[0] as FileVersionRow | undefined;
  if (!row) throw new ApiError("not_found", `File version ${versionId} does not exist.`);
  if (!can(ctx.principal, "file:read")) deny("file:read");
  return { fileVersion: presentFileVersion(row), version: row.updated_at };
}
