import { sql, type SQL } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError, type FieldError } from "../../lib/errors.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import { assertMayIncludeDeleted, containsPattern, sqlList, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { updateAudit, versionMatches } from "../../lib/row-version.ts";
import { restore, softDelete, type SoftDeletable } from "../../lib/soft-delete.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { staleVersion } from "../../lib/etag.ts";
import { runWrite, type Row } from "../../lib/write.ts";
import type { PermissionName } from "../../db/seed/catalog.ts";
import { can, type Principal } from "../auth/principal.ts";
import { projectProgressColumns } from "../annotation-jobs/job-progress.ts";
import {
  presentProject,
  presentProjectDetail,
  type ProjectDetailRow,
  type ProjectDetailView,
  type ProjectRow,
  type ProjectView,
} from "./projects.presenters.ts";
import { illegalMoveDetail, sourcesOf, type ProjectStatus } from "./projects.status.ts";

const NAME_INDEX = "project_org_id_name_live_idx";

/** The columns lists show (requirements_text can be long and is left to the single view). */
function projectListColumns(alias: string): SQL {
  const p = sql.raw(alias);
  return sql`${p}.project_id, ${p}.org_id, ${p}.name, ${p}.description, ${p}.status, ${p}.is_active, ${p}.annotations_per_row, ${p}.qc_sample_rate, ${p}.completed_at,
    ${p}.client_pm_id, ${p}.our_pm_id, ${p}.created_at, ${p}.updated_at, ${p}.deleted_at`;
}

/**
 * The single view's columns, used by every statement that answers with one project
 * (GET, POST, PATCH, restore). A field the single view gains (e.g. a progress rollup)
 * is one more column here and in ProjectDetailSchema/presentProjectDetail.
 */
function projectDetailColumns(alias: string): SQL {
  return sql`${projectListColumns(alias)}, ${sql.raw(alias)}.requirements_text, ${projectProgressColumns(alias)}`;
}

/** A single project and its version (updated_at as Postgres prints it), for the ETag. */
export type VersionedProject = { project: ProjectDetailView; version: string };

function versioned(row: ProjectDetailRow): VersionedProject {
  return { project: presentProjectDetail(row), version: row.updated_at };
}

const PROJECT: SoftDeletable = { entity: "project", table: "project", alias: "p", key: "project_id", scope: ["org_id", "project_id"] };

/** The project as the caller may see it (alias `p`), only if live when `liveOnly`. */
function visibleProject(principal: Principal, projectId: number, liveOnly: boolean): SQL {
  return sql`select p.* from project p
    where p.project_id = ${projectId} and ${projectVisible(principal, "p")} ${liveOnly ? sql`and p.deleted_at is null` : sql``}`;
}

function deny(permission: PermissionName): never {
  throw new ApiError("forbidden", `Your role does not allow this (${permission} is required).`);
}

/**
 * For callers without the permission an operation needs: 403 if they can see the
 * project, 404 if not, so a refusal never tells an outsider that an id exists.
 */
async function refuse(ctx: AuthenticatedContext, projectId: number, permission: PermissionName, liveOnly: boolean): Promise<never> {
  const result = await ctx.db.execute(sql`select 1 from (${visibleProject(ctx.principal, projectId, liveOnly)}) p`);
  if (result.rows.length > 0) deny(permission);
  throw notFound(projectId);
}

function notFoundDetail(projectId: number) {
  return `Project ${projectId} does not exist.`;
}

function notFound(projectId: number) {
  return new ApiError("not_found", notFoundDetail(projectId));
}

function nameClash(error: unknown, name: string | undefined): never {
  const pgError = postgresErrorOf(error);
  if (pgError?.code === UNIQUE_VIOLATION && pgError.constraint === NAME_INDEX) {
    throw new ApiError(
      "conflict",
      name === undefined
        ? "Another live project of this organization already has this project's name; rename one of them first."
        : `A live project named "${name}" already exists in this organization; project names are unique per organization.`,
    );
  }
  throw error;
}

/** A live, active user of the organization `orgId` names (as SQL). */
function clientPmCheck(userId: number | null | undefined, orgId: SQL): SQL {
  if (userId === undefined || userId === null) return sql`true`;
  return sql`exists (select 1 from "user" u where u.user_id = ${userId}::integer and u.org_id = ${orgId}
    and u.deleted_at is null and u.is_active)`;
}

/** A live, active platform user holding pm or admin. */
function ourPmCheck(userId: number | null | undefined): SQL {
  if (userId === undefined || userId === null) return sql`true`;
  return sql`exists (select 1 from "user" u
    join organization o on o.org_id = u.org_id and o.kind = 'platform'
    join user_role ur on ur.user_id = u.user_id join role r on r.role_id = ur.role_id
    where u.user_id = ${userId}::integer and u.deleted_at is null and u.is_active and r.name in ('pm', 'admin'))`;
}

type ReferenceChecks = { client_pm_ok: boolean; our_pm_ok: boolean };

function referenceErrors(row: ReferenceChecks): FieldError[] {
  const errors: FieldError[] = [];
  if (!row.client_pm_ok) errors.push({ path: "body.client_pm_id", message: "must be an active user of the project's organization" });
  if (!row.our_pm_ok) errors.push({ path: "body.our_pm_id", message: "must be an active platform user with the pm or admin role" });
  return errors;
}

function invalidReferences(errors: FieldError[]): ApiError {
  return new ApiError("validation_failed", "The request body is invalid.", { errors });
}

/** Clients work with their organization's own contacts; the platform decides who runs a project. */
function assertMayAssignOurPm(principal: Principal, ourPmId: number | null | undefined) {
  if (ourPmId !== undefined && principal.org_kind !== "platform") {
    throw new ApiError("forbidden", "our_pm_id is assigned by the platform; clients cannot set it.");
  }
}

// ---------------------------------------------------------------- reads

const SORT_COLUMNS: Record<string, SortColumn> = {
  name: { sql: sql`p.name`, kind: "text" },
  created_at: { sql: sql`p.created_at`, kind: "timestamp" },
  updated_at: { sql: sql`p.updated_at`, kind: "timestamp" },
};

export type ListProjectsQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  org_id?: number | undefined;
  status?: ProjectStatus | undefined;
  is_active?: boolean | undefined;
  q?: string | undefined;
  include_deleted: boolean;
};

export async function listProjects(ctx: AuthenticatedContext, query: ListProjectsQuery): Promise<Page<ProjectView>> {
  if (!can(ctx.principal, "project:read")) deny("project:read");
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, SORT_COLUMNS, sql`p.project_id`, query.cursor);
  const conditions = [
    projectVisible(ctx.principal, "p"),
    query.include_deleted ? sql`true` : sql`p.deleted_at is null`,
    query.org_id === undefined ? sql`true` : sql`p.org_id = ${query.org_id}`,
    query.status === undefined ? sql`true` : sql`p.status = ${query.status}::project_status`,
    query.is_active === undefined ? sql`true` : sql`p.is_active = ${query.is_active}`,
    query.q === undefined
      ? sql`true`
      : sql`(p.name ilike ${containsPattern(query.q)} or p.description ilike ${containsPattern(query.q)})`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`select ${projectListColumns("p")} from project p
    where ${sql.join(conditions, sql` and `)}
    order by ${page.orderBy} limit ${query.limit + 1}`);
  const rows = result.rows as ProjectRow[];
  return toPage(rows, query.limit, query.sort, (row) => ({ value: row[page.field as keyof ProjectRow], id: row.project_id }), presentProject);
}

export async function getProject(ctx: AuthenticatedContext, projectId: number, options: { include_deleted: boolean }): Promise<VersionedProject> {
  assertMayIncludeDeleted(ctx.principal, options.include_deleted);
  const result = await ctx.db.execute(sql`select ${projectDetailColumns("p")} from project p
    where p.project_id = ${projectId} and ${projectVisible(ctx.principal, "p")}
      ${options.include_deleted ? sql`` : sql`and p.deleted_at is null`}`);
  const row = result.rows[0] as ProjectDetailRow | undefined;
  if (!row) throw notFound(projectId);
  // Staff see the projects of their jobs (for the job's sake) but hold no project:read.
  if (!can(ctx.principal, "project:read")) deny("project:read");
  return versioned(row);
}

// ---------------------------------------------------------------- create

export type CreateProjectInput = {
  org_id?: number | undefined;
  name: string;
  description?: string | null | undefined;
  is_active?: boolean | undefined;
  client_pm_id?: number | null | undefined;
  our_pm_id?: number | null | undefined;
};

/** The organization a new project goes to: a client's own, or the one a platform admin names. */
function targetOrganization(principal: Principal, requested: number | undefined): number {
  if (principal.org_kind === "client") {
    if (requested !== undefined && requested !== principal.org_id) {
      throw new ApiError("forbidden", "Clients create projects only in their own organization.");
    }
    return principal.org_id;
  }
  if (requested === undefined) {
    throw invalidReferences([{ path: "body.org_id", message: "required: the client organization the project belongs to" }]);
  }
  return requested;
}

/**
 * One statement: the organization and both pms are checked, the row inserted only if
 * all hold, and the audit row written from what was inserted.
 */
export async function createProject(ctx: AuthenticatedContext, input: CreateProjectInput): Promise<VersionedProject> {
  if (!can(ctx.principal, "project:create")) deny("project:create");
  assertMayAssignOurPm(ctx.principal, input.our_pm_id);
  const orgId = targetOrganization(ctx.principal, input.org_id);
  let rows: Row[];
  try {
    [rows = []] = await runWrite(ctx, [
      sql`with checks as (
          select
            exists (select 1 from organization o where o.org_id = ${orgId}::integer and o.kind = 'client' and o.deleted_at is null) as org_ok,
            ${clientPmCheck(input.client_pm_id, sql`${orgId}::integer`)} as client_pm_ok,
            ${ourPmCheck(input.our_pm_id)} as our_pm_ok
        ), created as (
          insert into project (org_id, name, description, is_active, client_pm_id, our_pm_id)
          select ${orgId}::integer, ${input.name}::text, ${input.description ?? null}::text, ${input.is_active ?? true}::boolean,
            ${input.client_pm_id ?? null}::integer, ${input.our_pm_id ?? null}::integer
          from checks where checks.org_ok and checks.client_pm_ok and checks.our_pm_ok
          returning *
        ), audited as (
          ${auditInsert(ctx, {
            action: "project.create",
            entity_type: "project",
            entity_id: sql`created.project_id`,
            org_id: sql`created.org_id`,
            project_id: sql`created.project_id`,
            after: sql`(to_jsonb(created) - 'created_at' - 'updated_at' - 'deleted_at' - 'completed_at' - 'requirements_text')`,
          }, sql`created`)}
        )
        select checks.org_ok, checks.client_pm_ok, checks.our_pm_ok, ${projectDetailColumns("created")}
        from checks left join created on true`,
    ]);
  } catch (error) {
    nameClash(error, input.name);
  }
  const row = rows[0] as ProjectDetailRow & ReferenceChecks & { org_ok: boolean };
  const errors = [
    ...(row.org_ok ? [] : [{ path: "body.org_id", message: "must be an existing client organization" }]),
    ...referenceErrors(row),
  ];
  if (errors.length > 0) throw invalidReferences(errors);
  return versioned(row);
}

// ---------------------------------------------------------------- update

export type UpdateProjectInput = {
  name?: string | undefined;
  description?: string | null | undefined;
  status?: ProjectStatus | undefined;
  is_active?: boolean | undefined;
  client_pm_id?: number | null | undefined;
  our_pm_id?: number | null | undefined;
  annotations_per_row?: number | undefined;
  qc_sample_rate?: number | undefined;
};

const UPDATABLE: Record<Exclude<keyof UpdateProjectInput, "status">, string> = {
  name: "text",
  description: "text",
  is_active: "boolean",
  client_pm_id: "integer",
  our_pm_id: "integer",
  annotations_per_row: "integer",
  qc_sample_rate: "double precision",
};

type UpdateChecks = ReferenceChecks & { version_ok: boolean; status_ok: boolean; current_status: ProjectStatus };

/**
 * One statement: lock the visible live row (`for update`, so the checks below see the
 * latest committed version even under concurrent writers), check If-Match, the status
 * move and the referenced pms against it, update only if everything holds and something
 * actually changes, audit exactly the changed fields, and answer with the row.
 */
export async function updateProject(
  ctx: AuthenticatedContext,
  projectId: number,
  input: UpdateProjectInput,
  version: string | null,
): Promise<VersionedProject> {
  if (!can(ctx.principal, "project:update")) await refuse(ctx, projectId, "project:update", true);
  const { principal } = ctx;
  const ourPmAllowed = input.our_pm_id === undefined || principal.org_kind === "platform";

  const assignments: SQL[] = [];
  const differences: SQL[] = [];
  for (const [field, type] of Object.entries(UPDATABLE)) {
    const value = input[field as keyof typeof UPDATABLE];
    if (value === undefined) continue;
    const typed = sql`${value}::${sql.raw(type)}`;
    assignments.push(sql`${sql.raw(field)} = ${typed}`);
    differences.push(sql`target.${sql.raw(field)} is distinct from ${typed}`);
  }
  const to = input.status;
  if (to !== undefined) {
    const status = sql`${to}::project_status`;
    assignments.push(sql`status = ${status}`);
    // completed_at marks the latest completion: set on the move to completed, cleared on reopening.
    assignments.push(sql`completed_at = case
      when p.status <> 'completed' and ${status} = 'completed' then now()
      when p.status = 'completed' and ${status} <> 'completed' and ${status} <> 'archived' then null
      else p.completed_at end`);
    differences.push(sql`target.status is distinct from ${status}`);
  }
  const statusOk = to === undefined ? sql`true` : sql`(target.status = ${to}::project_status or target.status in (${sqlList(sourcesOf(to))}))`;

  let rows: Row[];
  try {
    [rows = []] = await runWrite(ctx, [
      sql`with target as (
          ${visibleProject(principal, projectId, true)} for update of p
        ), checks as (
          select target.project_id, target.status as current_status,
            ${versionMatches(sql`target.updated_at`, version)} as version_ok,
            ${statusOk} as status_ok,
            ${clientPmCheck(input.client_pm_id, sql`target.org_id`)} as client_pm_ok,
            ${ourPmCheck(input.our_pm_id)} as our_pm_ok,
            ${differences.length > 0 ? sql.join(differences, sql` or `) : sql`false`} as changed
          from target
        ), updated as (
          update project p set ${sql.join([...assignments, sql`updated_at = now()`], sql`, `)}
          from checks
          where p.project_id = checks.project_id and ${ourPmAllowed}::boolean and checks.version_ok and checks.status_ok
            and checks.client_pm_ok and checks.our_pm_ok and checks.changed
          returning p.*
        ), audited as (
          ${updateAudit(ctx, PROJECT)}
        ), result as (
          select * from updated
          union all
          select * from target where not exists (select 1 from updated)
        )
        select checks.version_ok, checks.status_ok, checks.current_status, checks.client_pm_ok, checks.our_pm_ok,
          ${projectDetailColumns("result")}
        from checks join result on true`,
    ]);
  } catch (error) {
    nameClash(error, input.name);
  }
  const row = rows[0] as (ProjectDetailRow & UpdateChecks) | undefined;
  if (!row) throw notFound(projectId);
  assertMayAssignOurPm(principal, input.our_pm_id);
  if (!row.version_ok) throw staleVersion();
  const errors = referenceErrors(row);
  if (errors.length > 0) throw invalidReferences(errors);
  if (!row.status_ok) throw new ApiError("conflict", illegalMoveDetail(row.current_status, to!));
  return versioned(row);
}

// ---------------------------------------------------------------- delete and restore

/** Soft delete: the project (and with it its files) disappears from every read until restored. */
export async function deleteProject(ctx: AuthenticatedContext, projectId: number, version: string | null): Promise<void> {
  if (!can(ctx.principal, "project:delete")) await refuse(ctx, projectId, "project:delete", true);
  await softDelete(ctx, PROJECT, { target: visibleProject(ctx.principal, projectId, true), version, notFound: notFoundDetail(projectId) });
}

export async function restoreProject(ctx: AuthenticatedContext, projectId: number): Promise<VersionedProject> {
  if (!can(ctx.principal, "project:delete")) await refuse(ctx, projectId, "project:delete", false);
  try {
    return versioned(
      await restore<ProjectDetailRow>(ctx, PROJECT, {
        target: visibleProject(ctx.principal, projectId, false),
        answer: projectDetailColumns(PROJECT.alias),
        notFound: notFoundDetail(projectId),
        notDeleted: `Project ${projectId} is not deleted; there is nothing to restore.`,
      }),
    );
  } catch (error) {
    nameClash(error, undefined);
  }
}
