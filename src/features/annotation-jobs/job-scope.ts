/**
 * The SQL every job-scoped operation (jobs, assignments, annotations, reviews, comments)
 * starts from: the one job the caller may see, with what the caller may do on it, and
 * the named checks a mutation must pass. All of it goes into the operation's single
 * statement, so the access check, the state check and the change happen together.
 *
 * A mutation's statement selects the job (`jobScope`) and its checks (`checksCte`),
 * writes only `where passed`, and returns the job row with every check's outcome. The
 * service then answers 404 when no job row came back, or the first failed check's error
 * (their order is the precedence: 403 before 412 before 409), which keeps the decision
 * in the statement and only its explanation in TypeScript.
 */
import { sql, type SQL } from "drizzle-orm";
import { jobVisible } from "../../lib/access.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can, hasRole, isPlatformAdmin, type Principal } from "../auth/principal.ts";
import type { PermissionName } from "../../db/seed/catalog.ts";
import type { JobActor, JobStatus } from "./job-status.ts";

/** Managing a project's jobs: platform admins, and a pm on the projects where they are our_pm. */
export function managesProject(principal: Principal, projectAlias: string): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  if (principal.org_kind === "platform" && hasRole(principal, "pm")) {
    return sql`coalesce(${sql.raw(projectAlias)}.our_pm_id = ${principal.user_id}::integer, false)`;
  }
  return sql`false`;
}

function holdsAssignment(principal: Principal, jobAlias: string, roles: readonly string[]): SQL {
  if (isPlatformAdmin(principal)) return sql`true`;
  if (principal.org_kind !== "platform") return sql`false`;
  const list = sql.join(roles.map((role) => sql`${role}::assignment_role`), sql`, `);
  return sql`exists (select 1 from assignment scope_assignment
    where scope_assignment.job_id = ${sql.raw(jobAlias)}.job_id and scope_assignment.user_id = ${principal.user_id}::integer
      and scope_assignment.role in (${list}))`;
}

const ALL_ACTORS: readonly JobActor[] = ["manager", "annotator", "reviewer", "qc"];

/**
 * Booleans: is the caller this job's manager, its annotator, its reviewer (reviewer or
 * qc), its qc? Admins are all four. `actors` limits the columns to those a statement
 * reads (`capacity` names the column of each).
 */
export function capacityColumns(principal: Principal, jobAlias: string, projectAlias: string, actors: readonly JobActor[] = ALL_ACTORS): SQL {
  if (actors.length === 0) throw new Error("capacityColumns: name at least one capacity (the scope's SELECT list follows it)");
  const columns: Record<JobActor, SQL> = {
    manager: sql`${managesProject(principal, projectAlias)} as caller_manages`,
    annotator: sql`${holdsAssignment(principal, jobAlias, ["annotator"])} as caller_annotates`,
    reviewer: sql`${holdsAssignment(principal, jobAlias, ["reviewer", "qc"])} as caller_reviews`,
    qc: sql`${holdsAssignment(principal, jobAlias, ["qc"])} as caller_qcs`,
  };
  return sql.join(actors.map((actor) => columns[actor]), sql`,
    `);
}

export type JobScopeRow = {
  job_id: number;
  project_id: number;
  org_id: number;
  table_id: number;
  name: string;
  status: JobStatus;
  row_start: number;
  row_end: number;
  version: string;
  project_status: string;
  /** null when the scope was built with `progress: false`. */
  annotated: number | null;
  /** Each absent when the scope was built with `capacities` that leave it out. */
  caller_manages?: boolean;
  caller_annotates?: boolean;
  caller_reviews?: boolean;
  caller_qcs?: boolean;
};

/**
 * The FROM and WHERE of the annotation_job row `jobId` (as `j`, with its project as `p`)
 * if the caller may see it, row-locked with `lock`. The project is joined once and the
 * access check reads it (`jobVisible` with the project's alias): a second join of
 * project, or the policy's own sub-select of it, made every job-scoped statement's plan
 * twice as costly to make and to run (BENCHMARKS.md, "A generic consensus plan, one join
 * of the project, the start chain once").
 */
function visibleJobFrom(ctx: AuthenticatedContext, jobId: number, options: { lock?: boolean; deleted?: "hidden" | "included" }): SQL {
  return sql`from annotation_job j join project p on p.project_id = j.project_id
      where j.job_id = ${jobId}::integer and p.deleted_at is null
        and ${options.deleted === "included" ? sql`true` : sql`j.deleted_at is null`}
        and ${jobVisible(ctx.principal, "j", "p")}
      ${options.lock ? sql`for no key update of j` : sql``}`;
}

/** The annotation_job row `jobId` if the caller may see it, row-locked with `lock`. */
export function visibleJob(ctx: AuthenticatedContext, jobId: number, options: { lock?: boolean; deleted?: "hidden" | "included" } = {}): SQL {
  return sql`select j.* ${visibleJobFrom(ctx, jobId, options)}`;
}

/**
 * The CTE `scope`: the live job `jobId` if the caller may see it (soft-deleted ones too
 * with `deleted: "included"`), the annotation_job row with its project's org and status,
 * its progress (`annotated`), its version (updated_at's text) and the caller's
 * capacities (`progress: false` leaves `annotated` null: counting it reads every
 * response of the job, which a per-row write that never shows the job should not pay on
 * each call). With `lock` the job row is locked for the transaction: every operation
 * that depends on the job's status (saves, submit, reviews, PATCH) takes it, so they
 * serialise per job and each sees the status the previous one left. `materialized`
 * computes `scope` once for a statement that refers to it from every row of a page (see
 * jobScopedRows). `capacities` limits the caller's capacities to those the statement
 * reads: each is a sub-select of assignment to plan and run (a save reads one of four).
 */
export function jobScope(
  ctx: AuthenticatedContext,
  jobId: number,
  options: { lock?: boolean; deleted?: "hidden" | "included"; progress?: boolean; materialized?: boolean; capacities?: readonly JobActor[] } = {},
): SQL {
  const { principal } = ctx;
  return sql`scope as ${options.materialized ? sql`materialized ` : sql``}(
      select j.*, j.updated_at::text as version, p.org_id, p.status as project_status,
        ${options.progress === false
          ? sql`null::int as annotated`
          : sql`(select count(distinct scope_annotation.row_index)::int from annotation scope_annotation where scope_annotation.job_id = j.job_id) as annotated`},
        ${capacityColumns(principal, "j", "p", options.capacities)}
      ${visibleJobFrom(ctx, jobId, options)}
    )`;
}

/** A named condition a mutation needs; `fail` explains it when it does not hold. */
export type Check<R> = { name: string; holds: SQL; fail: (row: R) => ApiError };

/**
 * The `checks` CTE over `scope` (and any `from` joined to it): the scope's row with each
 * check as a boolean column `check_<name>`, the caller's extra `columns`, and `passed`
 * (all checks held). The checks are computed once, in a subquery the planner keeps as
 * it is (`offset 0`), and `passed` is made of their columns: written as the checks'
 * expressions again, every sub-select in them would be planned and run twice.
 */
export function checksCte<R>(checks: readonly Check<R>[], options: { columns?: SQL; from?: SQL } = {}): SQL {
  const columns = [
    sql`scope.*`,
    ...checks.map((check) => sql`coalesce((${check.holds}), false) as ${sql.raw(`check_${check.name}`)}`),
    ...(options.columns ? [options.columns] : []),
  ];
  const passed = checks.length === 0 ? sql`true` : sql.raw(checks.map((check) => `checked.check_${check.name}`).join(" and "));
  return sql`checks as (select checked.*, (${passed}) as passed
    from (select ${sql.join(columns, sql`, `)} from scope ${options.from ?? sql``} offset 0) checked)`;
}

/** The error of the first check the row failed, in declaration order (null when all passed). */
export function firstFailure<R extends Record<string, unknown>>(row: R, checks: readonly Check<R>[]): ApiError | null {
  const failed = checks.find((check) => row[`check_${check.name}`] !== true);
  return failed ? failed.fail(row) : null;
}

/** The permission-and-assignment check of a capacity: e.g. annotating needs annotation:write and an annotator assignment. */
export function capacity(principal: Principal, actor: JobActor, permission: PermissionName): SQL {
  if (!can(principal, permission)) return sql`false`;
  const column = { annotator: "caller_annotates", reviewer: "caller_reviews", qc: "caller_qcs", manager: "caller_manages" }[actor];
  return sql.raw(`scope.${column}`);
}

export function jobNotFound(jobId: number): ApiError {
  return new ApiError("not_found", `Annotation job ${jobId} does not exist.`);
}

export type JobScopedRows<R> = { job: { status: JobStatus; row_start: number; row_end: number }; rows: R[] };

/**
 * A read of rows that belong to a visible job, in one query: `items` is a lateral
 * subquery over the `scope` CTE (the job) that returns the page, `key` one of its
 * non-null columns. Resolves to null when the job is not visible (the caller's 404),
 * else the job's status and range with the page (empty when the job has none).
 */
export async function jobScopedRows<R>(ctx: AuthenticatedContext, jobId: number, items: SQL, key: string, orderBy: SQL): Promise<JobScopedRows<R> | null> {
  // The page refers to the caller's capacities (scope.caller_*) from every row: with
  // `scope` inlined, the planner copies their sub-selects into each place and runs them
  // there, which made a reviewer's page of items with three responses a row cost twice
  // what it does with `scope` computed once. Nothing here reads the progress count.
  const result = await ctx.db.execute(sql`with ${jobScope(ctx, jobId, { progress: false, materialized: true })}
    select scope.status as scope_status, scope.row_start as scope_row_start, scope.row_end as scope_row_end, listed.*
    from scope left join lateral (${items}) listed on true
    order by ${orderBy}`);
  const rows = result.rows as (R & { scope_status: JobStatus; scope_row_start: number; scope_row_end: number })[];
  const first = rows[0];
  if (!first) return null;
  return {
    job: { status: first.scope_status, row_start: first.scope_row_start, row_end: first.scope_row_end },
    rows: rows.filter((row) => (row as Record<string, unknown>)[key] !== null),
  };
}

// The job-scoped lists (assignments, items, reviews, comments) page by one id column.
export { idAfter } from "../../lib/pagination.ts";
