import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { staleVersion, versionFromIfMatch } from "../../lib/etag.ts";
import { ApiError } from "../../lib/errors.ts";
import { INT4_MAX } from "../../lib/input-bounds.ts";
import { encodeCursor } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can, type Principal } from "../auth/principal.ts";
import { projectFollowsStart, transitionAudit } from "../annotation-jobs/job-effects.ts";
import { capacity, checksCte, firstFailure, idAfter, jobNotFound, jobScope, jobScopedRows, type Check, type JobScopeRow, type JobScopedRows } from "../annotation-jobs/job-scope.ts";
import type { JobStatus } from "../annotation-jobs/job-status.ts";
import { knownStarted, noteJobStatus } from "../annotation-jobs/job-started.ts";
import { consensusOf, lockJobFirst, questionsOf, rowConsensusAfterSave } from "../responses/consensus.ts";
import { responseVisible, shownResponseOrder } from "../responses/response-access.ts";
import { rowOpenForWork } from "../row-reviews/row-rules.ts";
import { answerChecks, answerColumns, labelSchemaJoin, learnFromSave, withCurrentSchema, type AnswerColumns, type AnswerPlan } from "../label-schema/answer-guard.ts";

type AnnotationData = Record<string, unknown>;

type AnnotationRow = {
  job_id: number;
  row_index: number;
  annotator_id: number;
  data: AnnotationData;
  version: number;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
};

function presentAnnotation(row: AnnotationRow) {
  return {
    job_id: row.job_id,
    row_index: row.row_index,
    annotator_id: row.annotator_id,
    data: row.data,
    version: row.version,
    updated_by: row.updated_by,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export type AnnotationView = ReturnType<typeof presentAnnotation>;

/**
 * The ETag names the row and the response's annotator as well as the version (versions
 * restart at 1 on every response), so an ETag read from one response can never satisfy
 * an If-Match on another.
 */
export function annotationVersionTag(annotation: { job_id: number; row_index: number; annotator_id: number; version: number }): string {
  return `${annotation.job_id}:${annotation.row_index}:${annotation.annotator_id}:${annotation.version}`;
}

/**
 * The version an If-Match asks for on this row: null without one, 0 (matches nothing,
 * so 412 once access is settled) for an ETag of another row or not ours at all.
 */
export function expectedVersion(header: string | undefined, jobId: number, rowIndex: number, annotatorId: number): number | null {
  let tag: string | null;
  try {
    tag = versionFromIfMatch(header);
  } catch (error) {
    // A malformed header is the caller's mistake whatever the row (422); a tag not ours is stale.
    if (error instanceof ApiError && error.code === "validation_failed") throw error;
    return 0;
  }
  if (tag === null) return null;
  const match = /^(\d+):(\d+):(\d+):(\d+)$/.exec(tag);
  if (!match || Number(match[1]) !== jobId || Number(match[2]) !== rowIndex || Number(match[3]) !== annotatorId) return 0;
  // A version beyond int4 was never issued, and must not reach the `::integer` cast.
  const version = Number(match[4]);
  return version <= INT4_MAX ? version : 0;
}

// ---------------------------------------------------------------- reading rules

/**
 * Who may read a job's items, annotations and history: anyone with annotation:read who
 * sees the job, except that a client organization sees results only once the job is
 * reviewed (approved): before that they are work in progress, not a result.
 */
export function assertMayReadResults(principal: Principal, jobId: number, status: JobStatus) {
  if (!can(principal, "annotation:read")) {
    throw new ApiError("forbidden", "Your role does not allow reading annotations (annotation:read).");
  }
  if (principal.org_kind === "client" && status !== "reviewed") {
    throw new ApiError(
      "forbidden",
      `The results of job ${jobId} are available to your organization once it is reviewed (approved); it is ${status}.`,
    );
  }
}

export function outOfRange(jobId: number, rowIndex: number, job: { row_start: number; row_end: number }) {
  return new ApiError("not_found", `Job ${jobId} covers rows ${job.row_start}–${job.row_end}; row ${rowIndex} is not one of its items.`);
}

/** The page of a job-scoped read, or the 404/403 that replaces it. */
export async function readableRows<R>(ctx: AuthenticatedContext, jobId: number, items: SQL, key: string, orderBy: SQL): Promise<JobScopedRows<R>> {
  const listed = await jobScopedRows<R>(ctx, jobId, items, key, orderBy);
  if (!listed) throw jobNotFound(jobId);
  assertMayReadResults(ctx.principal, jobId, listed.job.status);
  return listed;
}

// ---------------------------------------------------------------- one annotation

export async function getAnnotation(ctx: AuthenticatedContext, jobId: number, rowIndex: number): Promise<AnnotationView> {
  const listed = await readableRows<AnnotationRow>(
    ctx,
    jobId,
    sql`select a.job_id, a.row_index, a.annotator_id, a.data, a.version, a.updated_by, a.created_at::text as created_at, a.updated_at::text as updated_at
      from annotation a where a.job_id = scope.job_id and a.row_index = ${rowIndex}::integer and ${responseVisible(ctx.principal, "a")}
      order by ${shownResponseOrder(ctx.principal, "a")} limit 1`,
    "job_id",
    sql`listed.row_index`,
  );
  if (rowIndex < listed.job.row_start || rowIndex > listed.job.row_end) throw outOfRange(jobId, rowIndex, listed.job);
  const row = listed.rows[0];
  if (!row) throw new ApiError("not_found", `Row ${rowIndex} of job ${jobId} has no annotation yet.`);
  return presentAnnotation(row);
}

type SaveRow = JobScopeRow & AnswerColumns & Record<string, unknown> & { saved: AnnotationRow | null };

function lockedDetail(jobId: number, status: JobStatus): string {
  if (status === "awaiting_qc") return `Job ${jobId} is awaiting QC; its annotations are locked until QC approves or rejects it.`;
  return status === "submitted"
    ? `Job ${jobId} is submitted and awaiting review; its annotations are locked until a reviewer rejects it.`
    : `Job ${jobId} is reviewed (approved); its annotations are final and can no longer change.`;
}

/**
 * One statement. The job row is locked (saves, submits and reviews of a job take turns),
 * the checks run against it, and only if all pass: the annotation is written (with
 * If-Match, an UPDATE that matches only the expected version, so of concurrent saves
 * carrying the same ETag exactly one wins; without, an upsert), its revision kept, the
 * row's consensus stored (responses/consensus.ts: the job lock is taken by the batch's
 * statement before, so this one sees every response committed before it), the job
 * started if it was not, its project following, and every change audited.
 *
 * With a label schema, `data` must answer it: the statement also checks that the schema
 * is still the version `data` was validated against, and that spans fit their cells
 * (label-schema/answer-guard.ts explains why this keeps the save at one round trip).
 */
export async function saveAnnotation(
  ctx: AuthenticatedContext,
  jobId: number,
  rowIndex: number,
  data: AnnotationData,
  expected: number | null,
  leadTimeMs: number | null = null,
): Promise<AnnotationView> {
  return withCurrentSchema(jobId, data, (plan) => saveAnswers(ctx, jobId, rowIndex, { data, leadTimeMs }, expected, plan));
}

/** The first save of a job starts it: the job moves to in_progress, its project follows, both audited. */
function startChain(ctx: AuthenticatedContext): SQL {
  return sql`started as (
      update annotation_job u set status = 'in_progress', updated_at = now()
      from checks
      where u.job_id = checks.job_id and checks.status = 'not_started' and exists (select 1 from saved)
      returning u.job_id, u.project_id, u.status, checks.org_id, checks.status as previous_status, checks.project_status
    ), audited_start as (
      ${transitionAudit(ctx, "start", "started")}
    ), ${projectFollowsStart(ctx, "started")}`;
}

async function saveAnswers(
  ctx: AuthenticatedContext,
  jobId: number,
  rowIndex: number,
  { data, leadTimeMs }: { data: AnnotationData; leadTimeMs: number | null },
  expected: number | null,
  plan: AnswerPlan,
): Promise<AnnotationView> {
  const payload = sql`${JSON.stringify(data)}::jsonb`;
  const checks: Check<SaveRow>[] = [
    {
      name: "may_annotate",
      holds: capacity(ctx.principal, "annotator", "annotation:write"),
      fail: () => new ApiError("forbidden", `Only the annotator assigned to job ${jobId} (or a platform admin) can save its annotations.`),
    },
    {
      name: "in_range",
      holds: sql`${rowIndex}::integer between scope.row_start and scope.row_end`,
      fail: (row) => outOfRange(jobId, rowIndex, row),
    },
    {
      name: "open",
      holds: sql`scope.status in ('not_started', 'in_progress')`,
      fail: (row) => new ApiError("conflict", lockedDetail(jobId, row.status)),
    },
    {
      name: "not_submitted",
      holds: sql`not exists (select 1 from job_submission js where js.job_id = scope.job_id and js.annotator_id = ${ctx.principal.user_id}::integer)`,
      fail: () => new ApiError(
        "conflict",
        `You have submitted your responses to job ${jobId}; they are locked until the job is reviewed (a rejection reopens them).`,
      ),
    },
    {
      name: "row_open",
      holds: rowOpenForWork(sql`${rowIndex}::integer`),
      fail: () => new ApiError(
        "conflict",
        `Row ${rowIndex} of job ${jobId} was not sent back by its review: accepted rows are final, and after a rejection only the ` +
          `rejected rows change (GET /annotation-jobs/${jobId}/items?review=rejected lists them with the reviewer's reasons).`,
      ),
    },
    ...answerChecks<SaveRow>(plan, rowIndex, data, payload),
  ];
  // The response's consensus on its own, against the schema the checks found current.
  const own = consensusOf(sql`jsonb_build_array(${payload})`, questionsOf(sql`checks.project_id`), sql`null`);
  const write = expected === null
    ? sql`insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
        select checks.job_id, ${rowIndex}::integer, ${ctx.principal.user_id}::integer, ${payload}, own.final, own.agreed, ${ctx.principal.user_id}::integer
        from checks cross join lateral ${own} own where checks.passed
        on conflict (job_id, row_index, annotator_id) do update
          set data = excluded.data, own_final = excluded.own_final, own_agreed = excluded.own_agreed,
            version = annotation.version + 1, updated_by = excluded.updated_by, updated_at = now()
        returning *`
    : sql`update annotation a set data = ${payload}, own_final = own.final, own_agreed = own.agreed, version = a.version + 1,
          updated_by = ${ctx.principal.user_id}::integer, updated_at = now()
        from checks cross join lateral ${own} own
        where checks.passed and a.job_id = checks.job_id and a.row_index = ${rowIndex}::integer
          and a.annotator_id = ${ctx.principal.user_id}::integer and a.version = ${expected}::integer
        returning a.*`;
  const mayStart = !knownStarted(jobId);
  const [, rows = []] = await runWrite(ctx, [
    lockJobFirst(ctx, jobId),
    sql`with ${jobScope(ctx, jobId, { lock: true, progress: false, capacities: ["annotator"] })},
      ${checksCte(checks, { columns: answerColumns(plan, rowIndex), from: labelSchemaJoin })},
      saved as (${write}),
      consensus as (select ${rowConsensusAfterSave()} as stored from saved cross join checks),
      revision as (
        insert into annotation_revision (job_id, row_index, annotator_id, version, data, lead_time_ms, created_by)
        select saved.job_id, saved.row_index, saved.annotator_id, saved.version, saved.data, ${leadTimeMs}::integer, saved.updated_by from saved
        returning revision_id, job_id, row_index, annotator_id, version
      ), audited as (
        ${auditInsert(ctx, {
          action: "annotation_revision.create",
          entity_type: "annotation_revision",
          entity_id: sql`revision.revision_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          before: sql`case when revision.version > 1 then jsonb_build_object('version', revision.version - 1) end`,
          after: sql`jsonb_build_object('job_id', revision.job_id, 'row_index', revision.row_index, 'annotator_id', revision.annotator_id, 'version', revision.version)`,
        }, sql`revision cross join checks`)}
      )${mayStart ? sql`, ${startChain(ctx)}` : sql``}
      select checks.*, (select count(*) from consensus) as consensus_stored, (select row_to_json(s) from (
          select saved.job_id, saved.row_index, saved.annotator_id, saved.data, saved.version, saved.updated_by,
            saved.created_at::text as created_at, saved.updated_at::text as updated_at from saved) s) as saved
      from checks`,
  ]);
  const row = rows[0] as SaveRow | undefined;
  if (!row) throw jobNotFound(jobId);
  learnFromSave(jobId, row);
  noteJobStatus(jobId, row.status, Boolean(row.saved));
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  // Every check passed but the UPDATE matched nothing: the row is not at the If-Match version.
  if (!row.saved) throw staleVersion();
  return presentAnnotation(row.saved);
}

// ---------------------------------------------------------------- history

type RevisionRow = { revision_id: number | string; version: number; data: AnnotationData; created_by: number | null; created_at: string };

export async function listHistory(
  ctx: AuthenticatedContext,
  jobId: number,
  rowIndex: number,
  query: { limit: number; cursor?: string | undefined },
) {
  const after = idAfter(query.cursor, "version");
  const listed = await readableRows<RevisionRow>(
    ctx,
    jobId,
    sql`select r.revision_id, r.version, r.data, r.created_by, r.created_at::text as created_at
      from annotation_revision r
      where r.job_id = scope.job_id and r.row_index = ${rowIndex}::integer
        and r.annotator_id = (select a.annotator_id from annotation a
          where a.job_id = scope.job_id and a.row_index = ${rowIndex}::integer and ${responseVisible(ctx.principal, "a")}
          order by ${shownResponseOrder(ctx.principal, "a")} limit 1)
        ${after === null ? sql`` : sql`and r.version > ${after}::integer`}
      order by r.version limit ${query.limit + 1}`,
    "revision_id",
    sql`listed.version`,
  );
  if (rowIndex < listed.job.row_start || rowIndex > listed.job.row_end) throw outOfRange(jobId, rowIndex, listed.job);
  const page = listed.rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((revision) => ({
      revision_id: Number(revision.revision_id),
      version: revision.version,
      data: revision.data,
      created_by: revision.created_by,
      created_at: isoTimestamp(revision.created_at),
    })),
    next_cursor: listed.rows.length > query.limit && last ? encodeCursor("version", null, last.version) : null,
  };
}
