/**
 * The access policy: who may see which rows, as SQL predicates that go into the very
 * query that reads or changes the rows (tenancy in the query, never a fetch-then-check).
 * A row a predicate excludes does not exist for the caller: services answer 404.
 * Whether a caller may *change* what it can see is a permission (principal.permissions,
 * from the role catalog), checked in memory; a visible row without the permission is 403.
 *
 * Each predicate takes the SQL alias of the table it filters.
 */
import { sql, type SQL } from "drizzle-orm";
import { hasRole, isPlatformAdmin, type Principal } from "../features/auth/principal.ts";

const STAFF_ROLES = ["annotator", "reviewer", "qc"] as const;

function anyOf(conditions: SQL[]): SQL {
  if (conditions.length === 0) return sql`false`;
  return sql`(${sql.join(conditions, sql` or `)})`;
}

function isStaff(principal: Principal) {
  return principal.org_kind === "platform" && STAFF_ROLES.some((role) => hasRole(principal, role));
}

function isPm(principal: Principal) {
  return principal.org_kind === "platform" && hasRole(principal, "pm");
}

/** Projects: admins all; clients their organization's; pms those they manage; staff those with a job assigned to them. */
export function projectVisible(principal: Principal, alias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  const p = sql.raw(alias);
  if (principal.org_kind === "client") return sql`${p}.org_id = ${principal.org_id}`;
  const conditions: SQL[] = [];
  if (isPm(principal)) conditions.push(sql`${p}.our_pm_id = ${principal.user_id}`);
  if (isStaff(principal)) {
    conditions.push(sql`exists (select 1 from annotation_job access_job
      join assignment access_assignment on access_assignment.job_id = access_job.job_id
      where access_job.project_id = ${p}.project_id and access_assignment.user_id = ${principal.user_id}
        and access_job.deleted_at is null)`);
  }
  return anyOf(conditions);
}

/** Rows that belong to a project (files, exports, jobs …): visible with the project. */
export function projectMemberVisible(principal: Principal, projectIdColumn: SQL): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  return sql`exists (select 1 from project access_project
    where access_project.project_id = ${projectIdColumn} and ${projectVisible(principal, "access_project")})`;
}

/**
 * Annotation jobs: staff only those they are assigned to; everyone else with the job's
 * project. Given the alias of the job's project where the query has already joined it,
 * the project's conditions read it rather than look the project up again.
 */
export function jobVisible(principal: Principal, alias: string, projectAlias?: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  const j = sql.raw(alias);
  const conditions: SQL[] = [];
  if (principal.org_kind === "client" || isPm(principal)) {
    const project = projectAlias ?? "access_project";
    const scope = principal.org_kind === "client"
      ? sql`${sql.raw(project)}.org_id = ${principal.org_id}`
      : sql`${sql.raw(project)}.our_pm_id = ${principal.user_id}`;
    conditions.push(projectAlias
      ? scope
      : sql`exists (select 1 from project access_project where access_project.project_id = ${j}.project_id and ${scope})`);
  }
  if (isStaff(principal)) {
    conditions.push(sql`exists (select 1 from assignment access_assignment
      where access_assignment.job_id = ${j}.job_id and access_assignment.user_id = ${principal.user_id})`);
  }
  return anyOf(conditions);
}

/** Files and their versions: the client organization that owns them and the project's pm (staff work through jobs). */
export function fileVisible(principal: Principal, alias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  const f = sql.raw(alias);
  if (principal.org_kind === "client") return sql`${f}.org_id = ${principal.org_id}`;
  if (isPm(principal)) {
    return sql`exists (select 1 from project access_project
      where access_project.project_id = ${f}.project_id and access_project.our_pm_id = ${principal.user_id})`;
  }
  return sql`false`;
}

/** Organizations: admins all; everyone their own; pms also the clients whose projects they manage. */
export function organizationVisible(principal: Principal, alias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  const o = sql.raw(alias);
  const conditions = [sql`${o}.org_id = ${principal.org_id}`];
  if (isPm(principal)) {
    conditions.push(sql`exists (select 1 from project access_project
      where access_project.org_id = ${o}.org_id and access_project.our_pm_id = ${principal.user_id})`);
  }
  return anyOf(conditions);
}

/** Users: admins all; everyone else the people of their own organization. */
export function userVisible(principal: Principal, alias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  return sql`${sql.raw(alias)}.org_id = ${principal.org_id}`;
}

/**
 * Audit events: admins all; clients their organization's; pms those of the projects
 * they manage; everyone the events they caused themselves.
 */
export function eventVisible(principal: Principal, alias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  const e = sql.raw(alias);
  const conditions = [sql`${e}.actor_id = ${principal.user_id}`];
  if (principal.org_kind === "client") conditions.push(sql`${e}.org_id = ${principal.org_id}`);
  if (isPm(principal)) {
    conditions.push(sql`exists (select 1 from project access_project
      where access_project.project_id = ${e}.project_id and access_project.our_pm_id = ${principal.user_id})`);
  }
  return anyOf(conditions);
}
