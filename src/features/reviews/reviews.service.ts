import { submissionsCleared } from "../annotation-jobs/job-submission.ts";
import { sql } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { transitionAudit } from "../annotation-jobs/job-effects.ts";
import { capacity, checksCte, firstFailure, idAfter, jobNotFound, jobScope, jobScopedRows, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";
import { describeActors, transitionNamed, type JobTransition } from "../annotation-jobs/job-status.ts";
import { qcUncheckedRows } from "../qc/qc-sample.ts";
import { rejectedRows, returnRejectedRows } from "../row-reviews/row-rules.ts";

type Verdict = "approved" | "rejected";

type ReviewScopeRow = JobScopeRow & { rejected_rows: number[]; qc_unchecked_rows: number[] };

type ReviewRow = { review_id: number; job_id: number; reviewer_id: number | null; status: Verdict; comments: string | null; created_at: string };

function present(row: ReviewRow) {
  return {
    review_id: row.review_id,
    job_id: row.job_id,
    reviewer_id: row.reviewer_id,
    status: row.status,
    comments: row.comments,
    created_at: isoTimestamp(row.created_at),
  };
}

export type ReviewView = ReturnType<typeof present>;

/** The moves a review can make, by its status: which one applies depends on where the job is and its project's qc_sample_rate. */
const MOVES: Record<Verdict, JobTransition["name"][]> = {
  approved: ["approve", "approve_to_qc", "qc_approve"],
  rejected: ["reject", "qc_reject"],
};

/**
 * One statement: the job is locked; the caller must be one of its reviewers (or its pm,
 * or an admin) while it is submitted, its qc (or pm, or an admin) while it awaits QC.
 * Then the review is inserted and the job moved — a reviewer's approval to `reviewed`, or
 * to `awaiting_qc` freezing the project's qc_sample_rate when it is above 0; QC's approval
 * (every sampled row accepted by QC) to `reviewed`; a rejection back to in_progress, its
 * submissions cleared and its rejected rows marked as sent back — and both audited
 * (review.create and the move's annotation_job.<name>, a rejection naming the returned rows).
 */
export async function createReview(
  ctx: AuthenticatedContext,
  jobId: number,
  input: { status: Verdict; comments?: string | null | undefined },
): Promise<ReviewView> {
  const approving = input.status === "approved";
  const { principal } = ctx;
  const checks: Check<ReviewScopeRow>[] = [
    {
      name: "may_review",
      holds: sql`(case when scope.status = 'awaiting_qc' then ${capacity(principal, "qc", "review:write")} else ${capacity(principal, "reviewer", "review:write")} end
        or ${capacity(principal, "manager", "review:write")})`,
      fail: (row) => new ApiError("forbidden", row.status === "awaiting_qc"
        ? `Job ${jobId} awaits QC: only ${describeActors(transitionNamed("qc_approve").by)} can review it now.`
        : `Only ${describeActors(transitionNamed("approve").by)} can review job ${jobId}.`),
    },
    {
      name: "submitted",
      holds: sql`scope.status in ('submitted', 'awaiting_qc')`,
      fail: (row) =>
        new ApiError(
          "conflict",
          `Job ${jobId} is ${row.status}; only a submitted job can be reviewed (its annotator submits it once every row is annotated).`,
        ),
    },
  ];
  if (approving) {
    checks.push({
      name: "no_rejected_rows",
      holds: sql`jsonb_array_length(${rejectedRows()}) = 0`,
      fail: (row) => new ApiError(
        "conflict",
        `Job ${jobId} cannot be approved: rows ${row.rejected_rows.join(", ")} are rejected; reject the job to send them back, ` +
          "or accept them (PUT …/items/{row_index}/review).",
      ),
    });
    checks.push({
      name: "sample_checked",
      holds: sql`scope.status <> 'awaiting_qc' or jsonb_array_length(${qcUncheckedRows()}) = 0`,
      fail: (row) => new ApiError(
        "conflict",
        `Job ${jobId} awaits QC and rows ${row.qc_unchecked_rows.join(", ")} of its sample have not been accepted by QC; accept each ` +
          `(PUT …/items/{row_index}/review) before approving, or reject the job (GET /annotation-jobs/${jobId}/qc-sample lists the sample).`,
      ),
    });
  }
  const to = approving
    ? sql`case when checks.status = 'submitted' and checks.project_qc_sample_rate > 0 then 'awaiting_qc' else 'reviewed' end::annotation_job_status`
    : sql`'in_progress'::annotation_job_status`;
  const comments = input.comments === undefined || input.comments === "" ? null : input.comments;
  const moveAfter = approving
    ? sql`jsonb_build_object('status', moved.status, 'review_id', (select review_id from created), 'qc_sample_rate', moved.qc_sample_rate)`
    : sql`jsonb_build_object('status', moved.status, 'review_id', (select review_id from created),
        'returned_rows', (select coalesce(jsonb_agg(returned.row_index order by returned.row_index), '[]'::jsonb) from returned))`;
  const moveAudits = MOVES[input.status].map((name) => sql`audited_${sql.raw(name)} as (${transitionAudit(ctx, name, "moved", { after: moveAfter })})`);
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId, { lock: true })},
      ${checksCte(checks, {
        columns: sql`${rejectedRows()} as rejected_rows,
          ${approving ? qcUncheckedRows() : sql`'[]'::jsonb`} as qc_unchecked_rows,
          (select p.qc_sample_rate from project p where p.project_id = scope.project_id) as project_qc_sample_rate`,
      })}, created as (
        insert into review (job_id, reviewer_id, status, comments)
        select checks.job_id, ${principal.user_id}::integer, ${input.status}::review_status, ${comments}::text
        from checks where checks.passed
        returning *
      ), moved as (
        update annotation_job u set status = ${to}, updated_at = now(),
          reviewed_at = case when ${to} = 'reviewed' then now() end,
          submitted_at = ${approving ? sql`u.submitted_at` : sql`null`},
          qc_sample_rate = case ${to} when 'awaiting_qc' then checks.project_qc_sample_rate when 'in_progress' then null else u.qc_sample_rate end
        from checks
        where u.job_id = checks.job_id and checks.passed
        returning u.job_id, u.project_id, u.status, u.qc_sample_rate, checks.org_id, checks.status as previous_status
      ), ${submissionsCleared()}, ${returnRejectedRows()}, audited_review as (
        ${auditInsert(ctx, {
          action: "review.create",
          entity_type: "review",
          entity_id: sql`created.review_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          after: sql`jsonb_build_object('job_id', created.job_id, 'status', created.status, 'comments', created.comments)`,
        }, sql`created cross join checks`)}
      ), ${sql.join(moveAudits, sql`, `)}
      select checks.*, (select row_to_json(r) from (
          select created.review_id, created.job_id, created.reviewer_id, created.status, created.comments,
            created.created_at::text as created_at from created) r) as review
      from checks`,
  ]);
  const row = rows[0] as (ReviewScopeRow & Record<string, unknown> & { review: ReviewRow | null }) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  return present(row.review!);
}

export async function listReviews(ctx: AuthenticatedContext, jobId: number, query: { limit: number; cursor?: string | undefined }): Promise<Page<ReviewView>> {
  const after = idAfter(query.cursor, "review_id");
  const listed = await jobScopedRows<ReviewRow>(
    ctx,
    jobId,
    sql`select r.review_id, r.job_id, r.reviewer_id, r.status, r.comments, r.created_at::text as created_at
      from review r where r.job_id = scope.job_id ${after === null ? sql`` : sql`and r.review_id > ${after}::integer`}
      order by r.review_id limit ${query.limit + 1}`,
    "review_id",
    sql`listed.review_id`,
  );
  if (!listed) throw jobNotFound(jobId);
  if (!can(ctx.principal, "review:read")) throw new ApiError("forbidden", "Your role does not allow reading reviews (review:read).");
  const page = listed.rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map(present),
    next_cursor: listed.rows.length > query.limit && last ? encodeCursor("review_id", null, last.review_id) : null,
  };
}
