import { sql, type SQL } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { errorFields } from "../../lib/logger.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import type { ExportMessage } from "../../queues/messages.ts";
import { can, type Principal } from "../auth/principal.ts";
import { exportDownload } from "./export-download.ts";
import type { ExportFilters, ExportFormat, ExportScope, ExportStatus } from "./export-state.ts";
import { presentExport, type ExportRow, type ExportView } from "./exports.presenters.ts";

// Never r2_key's storage layout to the client, nor the writer's state: only what the presenter shows.
const EXPORT_COLUMNS = sql.raw(["export_id", "project_id", "status", "format", "scope", "filters", "progress_done", "progress_total",
  "row_count", "size_bytes", "sha256", "error", "r2_key", "requested_by", "created_at", "updated_at", "completed_at"]
  .map((column) => `e.${column}`).join(", "));

/** A project the caller can reach: visible to them and live. Its exports go with it. */
function reachableProject(principal: Principal, alias: string): SQL {
  return sql`${projectVisible(principal, alias)} and ${sql.raw(alias)}.deleted_at is null`;
}

const projectNotFound = (projectId: number) => new ApiError("not_found", `Project ${projectId} does not exist.`);
const exportNotFound = (exportId: number) => new ApiError("not_found", `Export ${exportId} does not exist.`);
const forbidden = (permission: string) => new ApiError("forbidden", `Your role does not allow this (${permission} is required).`);
const CLIENT_SCOPE_RULE = "Clients may export only approved results (scope `approved`); scope `all` includes work not yet reviewed.";

/** Whether the caller is a client (client_admin, client_member): their exports hold approved results only. */
const isClient = (principal: Principal) => principal.org_kind === "client";

/** The exports a caller may read: a client never sees an `all` export (made by platform staff), nor its download. */
function exportReadable(principal: Principal, alias: string): SQL {
  return isClient(principal) ? sql`${sql.raw(alias)}.scope = 'approved'` : sql`true`;
}

async function present(ctx: AuthenticatedContext, row: ExportRow): Promise<ExportView> {
  return presentExport(row, row.status === "succeeded" && row.r2_key ? await exportDownload(ctx.config, row) : null);
}

export type CreateExportInput = { format: ExportFormat; scope: ExportScope; job_ids?: number[] | undefined; file_ids?: number[] | undefined };

function idsParameter(ids: number[] | undefined) {
  return JSON.stringify(ids ?? []);
}

/**
 * One statement checks the project (404), the permission and a client's scope (403) and the filters (422:
 * every job and file named must be a live one of this project), and creates the export
 * with its audit row. Then the message goes on the export queue; if that fails the
 * export is marked failed at once (503), so nothing stays queued that no consumer will
 * ever see.
 */
export async function createExport(ctx: AuthenticatedContext, projectId: number, input: CreateExportInput): Promise<ExportView> {
  const permitted = can(ctx.principal, "export:create");
  const scopeAllowed = input.scope === "approved" || !isClient(ctx.principal);
  const allowed = permitted && scopeAllowed;
  const filters: ExportFilters = {};
  if (input.job_ids) filters.job_ids = [...new Set(input.job_ids)].sort((a, b) => a - b);
  if (input.file_ids) filters.file_ids = [...new Set(input.file_ids)].sort((a, b) => a - b);
  const objectName = `${crypto.randomUUID()}.${input.format}`;
  const [rows = []] = await runWrite(ctx, [
    sql`with target as (
        select p.project_id, p.org_id from project p where p.project_id = ${projectId} and ${reachableProject(ctx.principal, "p")}
      ), missing_jobs as (
        select coalesce(jsonb_agg(wanted.id order by wanted.id), '[]'::jsonb) as ids
        from (select value::integer as id from jsonb_array_elements_text(${idsParameter(input.job_ids)}::jsonb)) wanted
        where not exists (select 1 from annotation_job j
          where j.job_id = wanted.id and j.project_id = ${projectId} and j.deleted_at is null)
      ), missing_files as (
        select coalesce(jsonb_agg(wanted.id order by wanted.id), '[]'::jsonb) as ids
        from (select value::integer as id from jsonb_array_elements_text(${idsParameter(input.file_ids)}::jsonb)) wanted
        where not exists (select 1 from file f
          where f.file_id = wanted.id and f.project_id = ${projectId} and f.deleted_at is null)
      ), created as (
        insert into export_log (project_id, org_id, requested_by, format, scope, filters, r2_key)
        select target.project_id, target.org_id, ${ctx.principal.user_id}, ${input.format}::export_format,
          ${input.scope}::export_scope, ${JSON.stringify(filters)}::jsonb,
          'exports/' || target.org_id || '/' || target.project_id || '/' || ${objectName}::text
        from target, missing_jobs, missing_files
        where ${allowed} and jsonb_array_length(missing_jobs.ids) = 0 and jsonb_array_length(missing_files.ids) = 0
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "export_log.create",
          entity_type: "export_log",
          entity_id: sql`created.export_id`,
          org_id: sql`created.org_id`,
          project_id: sql`created.project_id`,
          after: sql`jsonb_build_object('format', created.format, 'scope', created.scope, 'filters', created.filters, 'status', created.status)`,
        }, sql`created`)}
      )
      select (select count(*) from target)::integer as visible, missing_jobs.ids as missing_job_ids,
        missing_files.ids as missing_file_ids, (select to_jsonb(e) from (select ${EXPORT_COLUMNS} from created e) e) as created
      from missing_jobs, missing_files`,
  ]);
  const result = rows[0] as { visible: number; missing_job_ids: number[]; missing_file_ids: number[]; created: ExportRow | null };
  if (result.visible === 0) throw projectNotFound(projectId);
  if (!permitted) throw forbidden("export:create");
  if (!scopeAllowed) throw new ApiError("forbidden", CLIENT_SCOPE_RULE);
  const errors = [
    ...result.missing_job_ids.map((id) => ({ path: "body.job_ids", message: `job ${id} is not a live job of project ${projectId}` })),
    ...result.missing_file_ids.map((id) => ({ path: "body.file_ids", message: `file ${id} is not a live file of project ${projectId}` })),
  ];
  if (errors.length > 0) throw new ApiError("validation_failed", "Some of the jobs or files to export are not in this project.", { errors });
  const created = result.created!;
  try {
    await ctx.config.EXPORT_QUEUE.send({ kind: "export", export_id: created.export_id } satisfies ExportMessage, { contentType: "json" });
  } catch (error) {
    ctx.logger.error("could not queue the export", { export_id: created.export_id, ...errorFields(error) });
    await ctx.db.execute(sql`update export_log set status = 'failed', error = 'The export could not be queued.',
      completed_at = now(), updated_at = now() where export_id = ${created.export_id}`);
    throw new ApiError("service_unavailable", "The export could not be queued; try again.");
  }
  return present(ctx, created);
}

const EXPORT_SORT: Record<string, SortColumn> = { created_at: { sql: sql`e.created_at`, kind: "timestamp" } };

export type ListExportsQuery = { limit: number; cursor?: string | undefined; sort: string; status?: ExportStatus | undefined };

/** The project (404 if unreachable) left-joined to its page of exports: one statement. */
export async function listExports(ctx: AuthenticatedContext, projectId: number, query: ListExportsQuery): Promise<Page<ExportView>> {
  const page = typedKeyset(query.sort, EXPORT_SORT, sql`e.export_id`, query.cursor);
  const result = await ctx.db.execute(sql`
    with target as (
      select p.project_id from project p where p.project_id = ${projectId} and ${reachableProject(ctx.principal, "p")}
    )
    select target.project_id as target_project_id, e.*
    from target left join lateral (
      select ${EXPORT_COLUMNS} from export_log e
      where e.project_id = target.project_id and ${exportReadable(ctx.principal, "e")} and ${page.where}
        ${query.status ? sql`and e.status = ${query.status}::export_status` : sql``}
      order by ${page.orderBy} limit ${query.limit + 1}
    ) e on true
    order by ${page.orderBy}`);
  const rows = result.rows as (ExportRow & { target_project_id: number; export_id: number | null })[];
  if (rows.length === 0) throw projectNotFound(projectId);
  // Staff see the projects of their jobs but may not read exports.
  if (!can(ctx.principal, "export:read")) throw forbidden("export:read");
  const exports = rows.filter((row) => row.export_id !== null);
  const pageOf = toPage(exports, query.limit, query.sort, (row) => ({ value: row.created_at, id: row.export_id }), (row) => row);
  return { data: await Promise.all(pageOf.data.map((row) => present(ctx, row))), next_cursor: pageOf.next_cursor };
}

export async function getExport(ctx: AuthenticatedContext, exportId: number): Promise<{ export: ExportView; version: string }> {
  const result = await ctx.db.execute(sql`
    select ${EXPORT_COLUMNS} from export_log e join project p on p.project_id = e.project_id
    where e.export_id = ${exportId} and ${reachableProject(ctx.principal, "p")} and ${exportReadable(ctx.principal, "e")}`);
  const row = result.rows[0] as ExportRow | undefined;
  if (!row) throw exportNotFound(exportId);
  if (!can(ctx.principal, "export:read")) throw forbidden("export:read");
  return { export: await present(ctx, row), version: row.updated_at };
}
