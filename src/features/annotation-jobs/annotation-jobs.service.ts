import { sql, type SQL } from "drizzle-orm";
import { jobVisible, projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { staleVersion } from "../../lib/etag.ts";
import { ApiError } from "../../lib/errors.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { CHECK_VIOLATION, postgresErrorOf } from "../../lib/postgres-errors.ts";
import { assertMayIncludeDeleted, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { changedFields, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite, type Row } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { jobColumns, presentJob, type JobRow, type JobView } from "./annotation-jobs.presenters.ts";
import { projectFollowsStart, transitionAudit } from "./job-effects.ts";
import { callerAnnotated, submissionRecorded, withSubmission } from "./job-submission.ts";
import { capacity, checksCte, firstFailure, jobNotFound, jobScope, managesProject, type Check, type JobScopeRow } from "./job-scope.ts";
import { describeActors, illegalMoveDetail, patchMoveTo, type JobActor, type JobStatus } from "./job-status.ts";
import type { PermissionName } from "../../db/seed/catalog.ts";
import { firstUnansweredRequired } from "../label-schema/answer-guard.ts";
import { firstUnreworkedRow } from "../row-reviews/row-rules.ts";

/** A split may cut at most this many jobs in one request. */
export const MAX_JOBS_PER_REQUEST = 1000;

const DUE_DATE_CHECK = "annotation_job_due_not_before_creation";

function projectNotFound(projectId: number) {
  return new ApiError("not_found", `Project ${projectId} does not exist.`);
}

function invalid(path: string, message: string, detail = "The request body is invalid.") {
  return new ApiError("validation_failed", detail, { errors: [{ path, message }] });
}

/** A due date before the job's creation day is bad input (422), whichever statement tripped the check. */
function dueDateViolation(error: unknown): never {
  const pgError = postgresErrorOf(error);
  if (pgError?.code === CHECK_VIOLATION && pgError.constraint === DUE_DATE_CHECK) {
    throw invalid("body.due_date", "must not be before the day the job was created");
  }
  throw error;
}

export type VersionedJob = { job: JobView; version: string };

function versioned(row: JobRow): VersionedJob {
  return { job: presentJob(row), version: row.updated_at };
}

// ---------------------------------------------------------------- create

export type CreateJobsInput = {
  name: string;
  table_id: number;
  row_start?: number | undefined;
  row_end?: number | undefined;
  split_size?: number | undefined;
  priority: "low" | "medium" | "high";
  due_date?: string | null | undefined;
  estimated_hours?: number | null | undefined;
  instructions?: string | null | undefined;
  annotations_per_row?: number | null | undefined;
};

type CreatePlan = {
  project_id: number;
  project_status: string;
  caller_manages: boolean;
  table_id: number | null;
  row_count: number | null;
  state: string | null;
  is_current: boolean | null;
  first_row: number | null;
  last_row: number | null;
  part_count: number | null;
  jobs: JobRow[] | null;
};

/**
 * One statement, whatever the number of jobs: the project (visible, live, managed by
 * the caller), the table (a current, active parse of a live file of that project) and
 * the range are checked, the ranges cut with generate_series, the jobs inserted and one
 * annotation_job.create event written per job. The answer's diagnostic columns explain
 * a refusal.
 */
export async function createJobs(ctx: AuthenticatedContext, projectId: number, input: CreateJobsInput): Promise<JobView[]> {
  const { principal } = ctx;
  const rowStart = input.row_start ?? 0;
  const guard = sql`${can(principal, "job:create")}::boolean and plan.caller_manages and plan.project_status <> 'archived'
    and plan.state = 'active' and plan.is_current and plan.first_row <= plan.last_row and plan.last_row < plan.row_count
    and plan.part_count <= ${MAX_JOBS_PER_REQUEST}::integer`;
  let rows: Row[];
  try {
    [rows = []] = await runWrite(ctx, [
      sql`with target as (
          select p.project_id, p.org_id, p.status as project_status, ${managesProject(principal, "p")} as caller_manages
          from project p
          where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(principal, "p")}
        ), source as (
          select t.table_id, t.row_count, t.state, coalesce(f.current_version_id = t.version_id, false) as is_current
          from file_table t
          join file_version v on v.version_id = t.version_id
          join file f on f.file_id = v.file_id
          join target on target.project_id = f.project_id
          where t.table_id = ${input.table_id}::integer and f.deleted_at is null
        ), plan as (
          select target.*, source.table_id, source.row_count, source.state, source.is_current,
            ${rowStart}::integer as first_row, coalesce(${input.row_end ?? null}::integer, source.row_count - 1) as last_row,
            case when coalesce(${input.row_end ?? null}::integer, source.row_count - 1) >= ${rowStart}::integer then
              ceil((coalesce(${input.row_end ?? null}::integer, source.row_count - 1) - ${rowStart}::integer + 1)::numeric
                / coalesce(${input.split_size ?? null}::integer, coalesce(${input.row_end ?? null}::integer, source.row_count - 1) - ${rowStart}::integer + 1))::integer
            end as part_count
          from target left join source on true
        ), created as (
          insert into annotation_job (project_id, table_id, name, priority, due_date, estimated_hours, instructions, annotations_per_row, row_start, row_end, created_by)
          select plan.project_id, plan.table_id,
            case when plan.part_count > 1 then ${input.name}::text || ' (' || (part.n + 1) || '/' || plan.part_count || ')' else ${input.name}::text end,
            ${input.priority}::job_priority, ${input.due_date ?? null}::date, ${input.estimated_hours ?? null}::numeric,
            ${input.instructions ?? null}::text, ${input.annotations_per_row ?? null}::integer,
            plan.first_row + part.n * coalesce(${input.split_size ?? null}::integer, 0),
            case when plan.part_count > 1 then least(plan.first_row + (part.n + 1) * ${input.split_size ?? null}::integer - 1, plan.last_row)
              else plan.last_row end,
            ${principal.user_id}::integer
          from plan cross join lateral generate_series(0, plan.part_count - 1) as part(n)
          where ${guard}
          returning *
        ), audited as (
          ${auditInsert(ctx, {
            action: "annotation_job.create",
            entity_type: "annotation_job",
            entity_id: sql`created.job_id`,
            org_id: sql`plan.org_id`,
            project_id: sql`created.project_id`,
            after: sql`jsonb_build_object('name', created.name, 'table_id', created.table_id, 'row_start', created.row_start,
              'row_end', created.row_end, 'priority', created.priority, 'due_date', created.due_date,
              'estimated_hours', created.estimated_hours, 'instructions', created.instructions,
              'annotations_per_row', created.annotations_per_row, 'status', created.status)`,
          }, sql`created cross join plan`)}
        )
        select plan.project_id, plan.project_status, plan.caller_manages, plan.table_id, plan.row_count, plan.state, plan.is_current,
          plan.first_row, plan.last_row, plan.part_count,
          (select json_agg(c order by c.row_start) from (select ${jobColumns(principal, "created")} from created) c) as jobs
        from plan`,
    ]);
  } catch (error) {
    dueDateViolation(error);
  }
  const plan = rows[0] as CreatePlan | undefined;
  if (!plan) throw projectNotFound(projectId);
  if (!can(principal, "job:create") || !plan.caller_manages) {
    throw new ApiError("forbidden", "Only the project's pm or a platform admin can create annotation jobs.");
  }
  if (plan.project_status === "archived") throw new ApiError("conflict", `Project ${projectId} is archived; it takes no new jobs.`);
  if (plan.table_id === null) {
    throw invalid("body.table_id", `must be a parsed table of a file of project ${projectId}`);
  }
  if (plan.state !== "active" || !plan.is_current) {
    throw new ApiError(
      "conflict",
      `Table ${plan.table_id} is not the current parse of its file (a reparse or a newer version replaced it); cut jobs from the file's current tables.`,
    );
  }
  const rowCount = plan.row_count ?? 0;
  if (rowCount === 0) throw invalid("body.table_id", "the table has no rows");
  if (input.row_end !== undefined && input.row_end >= rowCount) {
    throw invalid("body.row_end", `must be below the table's row_count (${rowCount})`);
  }
  if (rowStart >= rowCount) throw invalid("body.row_start", `must be below the table's row_count (${rowCount})`);
  if ((plan.part_count ?? 0) > MAX_JOBS_PER_REQUEST) {
    throw invalid("body.split_size", `would cut ${plan.part_count} jobs; at most ${MAX_JOBS_PER_REQUEST} per request`);
  }
  return (plan.jobs ?? []).map(presentJob);
}

// ---------------------------------------------------------------- reads

/**
 * Sort keys. due_date and priority sort on integers (days since 1970, the enum's
 * position: low < medium < high), so a cursor's value is type-checked before it reaches
 * SQL, and jobs without a due date sort after every dated one.
 */
const SORT_COLUMNS: Record<string, SortColumn> = {
  created_at: { sql: sql`j.created_at`, kind: "timestamp" },
  due_date: { sql: sql`coalesce(j.due_date - date '1970-01-01', 2147483647)`, kind: "integer" },
  priority: { sql: sql`array_position(enum_range(null::job_priority), j.priority)`, kind: "integer" },
  name: { sql: sql`j.name`, kind: "text" },
};

export type ListJobsQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  status?: JobStatus | undefined;
  priority?: "low" | "medium" | "high" | undefined;
  assignee_id?: number | undefined;
  due_before?: string | undefined;
  due_after?: string | undefined;
  project_id?: number | undefined;
  include_deleted: boolean;
};

function listConditions(ctx: AuthenticatedContext, query: ListJobsQuery): SQL[] {
  return [
    jobVisible(ctx.principal, "j"),
    query.include_deleted ? sql`true` : sql`j.deleted_at is null`,
    query.status === undefined ? sql`true` : sql`j.status = ${query.status}::annotation_job_status`,
    query.priority === undefined ? sql`true` : sql`j.priority = ${query.priority}::job_priority`,
    query.assignee_id === undefined
      ? sql`true`
      : sql`exists (select 1 from assignment la where la.job_id = j.job_id and la.user_id = ${query.assignee_id}::integer)`,
    query.due_before === undefined ? sql`true` : sql`j.due_date <= ${query.due_before}::date`,
    query.due_after === undefined ? sql`true` : sql`j.due_date >= ${query.due_after}::date`,
  ];
}

type ListedJobRow = JobRow & { sort_value: string | number };

function jobsPage(rows: ListedJobRow[], query: ListJobsQuery): Page<JobView> {
  return toPage(rows, query.limit, query.sort, (row) => ({ value: row.sort_value, id: row.job_id }), presentJob);
}

/** A project's jobs: 404 if the project is not visible; staff see only the jobs assigned to them. */
export async function listProjectJobs(ctx: AuthenticatedContext, projectId: number, query: ListJobsQuery): Promise<Page<JobView>> {
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, SORT_COLUMNS, sql`j.job_id`, query.cursor);
  const field = query.sort.replace(/^-/, "");
  const direction = query.sort.startsWith("-") ? sql`desc` : sql`asc`;
  const result = await ctx.db.execute(sql`with target as (
        select p.project_id from project p
        where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(ctx.principal, "p")}
      )
      select target.project_id as found_project_id, listed.*
      from target left join lateral (
        select ${jobColumns(ctx.principal, "j")}, ${SORT_COLUMNS[field]!.sql} as sort_value
        from annotation_job j
        where j.project_id = target.project_id and ${sql.join([...listConditions(ctx, query), page.where], sql` and `)}
        order by ${page.orderBy} limit ${query.limit + 1}
      ) listed on true
      order by listed.sort_value ${direction}, listed.job_id ${direction}`);
  const rows = result.rows as (ListedJobRow & { found_project_id: number })[];
  if (rows.length === 0) throw projectNotFound(projectId);
  if (!can(ctx.principal, "job:read")) throw new ApiError("forbidden", "Your role does not allow reading annotation jobs (job:read).");
  return jobsPage(rows.filter((row) => row.job_id !== null), query);
}

/** Every job the caller can see, across projects: an annotator's "my jobs". */
export async function listJobs(ctx: AuthenticatedContext, query: ListJobsQuery): Promise<Page<JobView>> {
  if (!can(ctx.principal, "job:read")) throw new ApiError("forbidden", "Your role does not allow reading annotation jobs (job:read).");
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, SORT_COLUMNS, sql`j.job_id`, query.cursor);
  const field = query.sort.replace(/^-/, "");
  const result = await ctx.db.execute(sql`select ${jobColumns(ctx.principal, "j")}, ${SORT_COLUMNS[field]!.sql} as sort_value
      from annotation_job j join project p on p.project_id = j.project_id
      where p.deleted_at is null
        and ${query.project_id === undefined ? sql`true` : sql`j.project_id = ${query.project_id}::integer`}
        and ${sql.join([...listConditions(ctx, query), page.where], sql` and `)}
      order by ${page.orderBy} limit ${query.limit + 1}`);
  return jobsPage(result.rows as ListedJobRow[], query);
}

export async function getJob(ctx: AuthenticatedContext, jobId: number, options: { include_deleted: boolean }): Promise<VersionedJob> {
  assertMayIncludeDeleted(ctx.principal, options.include_deleted);
  const result = await ctx.db.execute(sql`select ${jobColumns(ctx.principal, "j")}
    from annotation_job j join project p on p.project_id = j.project_id
    where j.job_id = ${jobId}::integer and p.deleted_at is null and ${jobVisible(ctx.principal, "j", "p")}
      ${options.include_deleted ? sql`` : sql`and j.deleted_at is null`}`);
  const row = result.rows[0] as JobRow | undefined;
  if (!row) throw jobNotFound(jobId);
  if (!can(ctx.principal, "job:read")) throw new ApiError("forbidden", "Your role does not allow reading annotation jobs (job:read).");
  return versioned(row);
}

// ---------------------------------------------------------------- update

export type UpdateJobInput = {
  name?: string | undefined;
  priority?: "low" | "medium" | "high" | undefined;
  due_date?: string | null | undefined;
  estimated_hours?: number | null | undefined;
  instructions?: string | null | undefined;
  annotations_per_row?: number | null | undefined;
  status?: JobStatus | undefined;
};

const EDITABLE: Record<Exclude<keyof UpdateJobInput, "status">, string> = {
  name: "text",
  priority: "job_priority",
  due_date: "date",
  estimated_hours: "numeric",
  instructions: "text",
  annotations_per_row: "integer",
};

/** The permission each actor needs to make a status move by PATCH. */
const PATCH_PERMISSION: Record<JobActor, PermissionName> = { manager: "job:update", annotator: "annotation:write", reviewer: "review:write", qc: "review:write" };

type UpdateRow = JobScopeRow & JobRow & {
  caller_annotated: number;
  first_missing_row: number | null;
  first_unanswered: { row_index: number; question: string } | null;
  first_unreworked: number | null;
  version: string;
};

/**
 * The checks a PATCH must pass, in the order their failures are reported: who may
 * change the fields, who may make the status move, If-Match, whether the move exists,
 * and submit's conditions (every row annotated, every required question of the label
 * schema answered).
 */
function updateChecks(ctx: AuthenticatedContext, jobId: number, input: UpdateJobInput, version: string | null): Check<UpdateRow>[] {
  const { principal } = ctx;
  const editsFields = Object.keys(EDITABLE).some((field) => input[field as keyof typeof EDITABLE] !== undefined);
  const to = input.status;
  const checks: Check<UpdateRow>[] = [];
  if (editsFields) {
    checks.push({
      name: "may_edit",
      holds: capacity(principal, "manager", "job:update"),
      fail: () => new ApiError("forbidden", "Only the project's pm or a platform admin can change a job's fields."),
    });
  }
  const move = to === undefined ? undefined : patchMoveTo(to);
  if (move) {
    const movers = move.by.map((actor) => capacity(principal, actor, PATCH_PERMISSION[actor]));
    checks.push({
      name: "may_move",
      holds: sql`(scope.status <> ${move.from}::annotation_job_status or ${sql.join(movers, sql` or `)})`,
      fail: () => new ApiError("forbidden", `Only ${describeActors(move.by)} can ${move.name} job ${jobId}.`),
    });
  }
  checks.push({ name: "version", holds: versionMatches(sql`scope.updated_at`, version), fail: () => staleVersion() });
  if (to !== undefined) {
    // Moving to the status the job already has is no move: it changes nothing.
    checks.push({
      name: "legal_move",
      holds: sql`(scope.status = ${to}::annotation_job_status ${move ? sql`or scope.status = ${move.from}::annotation_job_status` : sql``})`,
      fail: (row) => new ApiError("conflict", illegalMoveDetail(jobId, row.status, to)),
    });
  }
  if (move?.name === "submit") {
    checks.push({
      name: "first_submission",
      holds: sql`scope.status <> ${move.from}::annotation_job_status or not exists (
        select 1 from job_submission js where js.job_id = scope.job_id and js.annotator_id = ${principal.user_id}::integer)`,
      fail: () => new ApiError("conflict", `You have already submitted your responses to job ${jobId}; it awaits the other annotators' submissions.`),
    });
    checks.push({
      name: "complete",
      holds: sql`scope.status <> ${move.from}::annotation_job_status or ${callerAnnotated(principal.user_id)} = scope.row_end - scope.row_start + 1`,
      fail: (row) => {
        const total = row.row_end - row.row_start + 1;
        return new ApiError(
          "conflict",
          `Job ${jobId} cannot be submitted: ${total - row.caller_annotated} of its ${total} rows have no response of yours yet ` +
            `(the first is row ${row.first_missing_row}); annotate every row before submitting.`,
        );
      },
    });
    checks.push({
      name: "reworked",
      holds: sql`scope.status <> ${move.from}::annotation_job_status or ${firstUnreworkedRow(principal.user_id)} is null`,
      fail: (row) => new ApiError(
        "conflict",
        `Job ${jobId} cannot be submitted: its review sent back row ${row.first_unreworked} and you have not saved it since; ` +
          `redo every rejected row (GET /annotation-jobs/${jobId}/items?review=rejected) before submitting.`,
      ),
    });
    checks.push({
      name: "answered",
      holds: sql`scope.status <> ${move.from}::annotation_job_status or ${firstUnansweredRequired(principal.user_id)} is null`,
      fail: (row) => new ApiError(
        "conflict",
        `Job ${jobId} cannot be submitted: row ${row.first_unanswered?.row_index} does not answer the required question ` +
          `"${row.first_unanswered?.question}" of the project's label schema; answer it before submitting.`,
      ),
    });
  }
  return checks;
}

/**
 * One statement: the job is locked, every check evaluated against it, the row updated
 * only if all pass and something changes, and audited: annotation_job.update for the
 * changed fields, annotation_job.start / submit for a status move, and project.update
 * when the first started job moves its project.
 */
export async function updateJob(ctx: AuthenticatedContext, jobId: number, input: UpdateJobInput, version: string | null): Promise<VersionedJob> {
  const assignments: SQL[] = [];
  const differences: SQL[] = [];
  for (const [field, type] of Object.entries(EDITABLE)) {
    const value = input[field as keyof typeof EDITABLE];
    if (value === undefined) continue;
    const typed = sql`${value}::${sql.raw(type)}`;
    assignments.push(sql`${sql.raw(field)} = ${typed}`);
    differences.push(sql`scope.${sql.raw(field)} is distinct from ${typed}`);
  }
  const to = input.status;
  if (to !== undefined) {
    const status = sql`${to}::annotation_job_status`;
    // A submit moves the job only with the last of its annotations_per_row annotators; before
    // that it records the caller's submission (job_submission) and the job stays in_progress.
    const moves = to === "submitted" ? sql`checks.enough_submissions` : sql`true`;
    assignments.push(sql`status = case when ${moves} then ${status} else u.status end`);
    assignments.push(sql`submitted_at = case when ${moves} and ${status} = 'submitted' and u.status <> 'submitted' then now() else u.submitted_at end`);
    differences.push(sql`scope.status is distinct from ${status}`);
  }
  const checks = updateChecks(ctx, jobId, input, version);
  const submitting = to === "submitted";
  const moveName = to === undefined ? undefined : patchMoveTo(to)?.name;
  const fieldChanges = changedFields("scope", "updated", ["updated_at", "status", "submitted_at"]);
  let rows: Row[];
  try {
    [rows = []] = await runWrite(ctx, [
      sql`with ${jobScope(ctx, jobId, { lock: true })},
        ${checksCte(checks, {
          columns: sql`${differences.length > 0 ? sql.join(differences, sql` or `) : sql`false`} as changed,
            ${submitting ? callerAnnotated(ctx.principal.user_id) : sql`0`} as caller_annotated,
            ${submitting
              ? sql`case when ${callerAnnotated(ctx.principal.user_id)} < scope.row_end - scope.row_start + 1 then
                  (select min(gs.row_index) from generate_series(scope.row_start, scope.row_end) as gs(row_index)
                    where not exists (select 1 from annotation ma where ma.job_id = scope.job_id and ma.row_index = gs.row_index
                      and ma.annotator_id = ${ctx.principal.user_id}::integer))
                end`
              : sql`null::integer`} as first_missing_row,
            ${submitting ? firstUnansweredRequired(ctx.principal.user_id) : sql`null::jsonb`} as first_unanswered,
            ${submitting ? firstUnreworkedRow(ctx.principal.user_id) : sql`null::integer`} as first_unreworked,
            ${submitting
              ? sql`(select count(*) from job_submission es where es.job_id = scope.job_id) + 1
                  >= coalesce(scope.annotations_per_row, (select ep.annotations_per_row from project ep where ep.project_id = scope.project_id))`
              : sql`false`} as enough_submissions`,
        })}, updated as (
          update annotation_job u set ${sql.join([...assignments, sql`updated_at = now()`], sql`, `)}
          from checks
          where u.job_id = checks.job_id and checks.passed and checks.changed
          returning u.*, checks.org_id, checks.status as previous_status, checks.project_status
        ), field_changes as (
          select updated.job_id, updated.project_id, updated.org_id, changes.before, changes.after
          from updated join scope on scope.job_id = updated.job_id
          cross join lateral (select ${fieldChanges.before} as before, ${fieldChanges.after} as after) changes
        ), audited_fields as (
          ${auditInsert(ctx, {
            action: "annotation_job.update",
            entity_type: "annotation_job",
            entity_id: sql`field_changes.job_id`,
            org_id: sql`field_changes.org_id`,
            project_id: sql`field_changes.project_id`,
            before: sql`field_changes.before`,
            after: sql`field_changes.after`,
          }, sql`field_changes where field_changes.after <> '{}'::jsonb`)}
        )${moveName ? sql`, audited_move as (${transitionAudit(ctx, moveName, "updated")})` : sql``}
        ${submitting ? sql`, ${submissionRecorded(ctx)}` : sql``}
        ${moveName === "start"
          ? sql`, started as (select * from updated where updated.previous_status = 'not_started' and updated.status = 'in_progress'),
              ${projectFollowsStart(ctx, "started")}`
          : sql``},
        result as (
          select * from scope where not exists (select 1 from updated)
        )
        select checks.*, coalesce(
          (select row_to_json(r) from (select ${jobColumns(ctx.principal, "updated")} from updated) r),
          (select row_to_json(r) from (select ${jobColumns(ctx.principal, "result")} from result) r)
        ) as job, ${submitting ? sql`(select submission.annotator_id from submission)` : sql`null::integer`} as new_submission
        from checks`,
    ]);
  } catch (error) {
    dueDateViolation(error);
  }
  const row = rows[0] as (UpdateRow & { passed: boolean; job: JobRow; new_submission: number | null }) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  return versioned(withSubmission(row.job, row.new_submission));
}

// ---------------------------------------------------------------- delete and restore

export async function deleteJob(ctx: AuthenticatedContext, jobId: number, version: string | null): Promise<void> {
  const checks: Check<JobScopeRow>[] = [
    {
      name: "may_delete",
      holds: capacity(ctx.principal, "manager", "job:delete"),
      fail: () => new ApiError("forbidden", "Only the project's pm or a platform admin can delete a job."),
    },
    { name: "version", holds: versionMatches(sql`scope.updated_at`, version), fail: () => staleVersion() },
  ];
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId, { lock: true })},
      ${checksCte(checks)},
      deleted as (
        update annotation_job u set deleted_at = now(), updated_at = now()
        from checks where u.job_id = checks.job_id and checks.passed
        returning u.job_id, u.project_id, checks.org_id, u.deleted_at
      ), audited as (
        ${auditInsert(ctx, {
          action: "annotation_job.delete",
          entity_type: "annotation_job",
          entity_id: sql`deleted.job_id`,
          org_id: sql`deleted.org_id`,
          project_id: sql`deleted.project_id`,
          before: sql`jsonb_build_object('deleted_at', null)`,
          after: sql`jsonb_build_object('deleted_at', deleted.deleted_at)`,
        }, sql`deleted`)}
      )
      select checks.* from checks`,
  ]);
  const row = rows[0] as (JobScopeRow & Record<string, unknown>) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
}

/** A soft-deleted job back to life; who may delete a job may restore it. */
export async function restoreJob(ctx: AuthenticatedContext, jobId: number): Promise<VersionedJob> {
  const checks: Check<JobScopeRow>[] = [
    {
      name: "may_restore",
      holds: capacity(ctx.principal, "manager", "job:delete"),
      fail: () => new ApiError("forbidden", "Only the project's pm or a platform admin can restore a job."),
    },
    {
      name: "deleted",
      holds: sql`scope.deleted_at is not null`,
      fail: () => new ApiError("conflict", `Annotation job ${jobId} is not deleted; there is nothing to restore.`),
    },
  ];
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId, { lock: true, deleted: "included" })},
      ${checksCte(checks)},
      restored as (
        update annotation_job u set deleted_at = null, updated_at = now()
        from checks where u.job_id = checks.job_id and checks.passed
        returning u.*, checks.org_id, checks.deleted_at as previous_deleted_at
      ), audited as (
        ${auditInsert(ctx, {
          action: "annotation_job.restore",
          entity_type: "annotation_job",
          entity_id: sql`restored.job_id`,
          org_id: sql`restored.org_id`,
          project_id: sql`restored.project_id`,
          before: sql`jsonb_build_object('deleted_at', restored.previous_deleted_at)`,
          after: sql`jsonb_build_object('deleted_at', null)`,
        }, sql`restored`)}
      )
      select checks.*, (select row_to_json(r) from (select ${jobColumns(ctx.principal, "restored")} from restored) r) as job
      from checks`,
  ]);
  const row = rows[0] as (JobScopeRow & Record<string, unknown> & { job: JobRow | null }) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  return versioned(row.job!);
}
