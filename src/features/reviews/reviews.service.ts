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
import { capacity, checkColumns, firstFailure, idAfter, jobNotFound, jobScope, jobScopedRows, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";
import { describeActors, transitionNamed } from "../annotation-jobs/job-status.ts";
import { rejectedRows, returnRejectedRows } from "../row-reviews/row-rules.ts";

type Verdict = "approved" | "rejected";

type ReviewScopeRow = JobScopeRow & { rejected_rows: number[] };

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

/**
 * One statement: the job is locked, the caller must be one of its reviewers (or its pm,
 * or an admin) and the job submitted; then the review is inserted, the job moved
 * (approve: reviewed; reject: back to in_progress, its submission cleared, its rejected
 * rows marked as sent back) and both audited (review.create, annotation_job.approve /
 * reject, the latter naming the returned rows).
 */
export async function createReview(
  ctx: AuthenticatedContext,
  jobId: number,
  input: { status: Verdict; comments?: string | null | undefined },
): Promise<ReviewView> {
  const move = transitionNamed(input.status === "approved" ? "approve" : "reject");
  const { principal } = ctx;
  const checks: Check<ReviewScopeRow>[] = [
    {
      name: "may_review",
      holds: sql`(${capacity(principal, "reviewer", "review:write")} or ${capacity(principal, "manager", "review:write")})`,
      fail: () => new ApiError("forbidden", `Only ${describeActors(move.by)} can review job ${jobId}.`),
    },
    {
      name: "submitted",
      holds: sql`scope.status = 'submitted'`,
      fail: (row) =>
        new ApiError(
          "conflict",
          `Job ${jobId} is ${row.status}; only a submitted job can be reviewed (its annotator submits it once every row is annotated).`,
        ),
    },
  ];
  if (input.status === "approved") {
    checks.push({
      name: "no_rejected_rows",
      holds: sql`jsonb_array_length(${rejectedRows()}) = 0`,
      fail: (row) => new ApiError(
        "conflict",
        `Job ${jobId} cannot be approved: rows ${row.rejected_rows.join(", ")} are rejected; reject the job to send them back, ` +
          "or accept them (PUT …/items/{row_index}/review).",
      ),
    });
  }
  const comments = input.comments === undefined || input.comments === "" ? null : input.comments;
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId, { lock: true })},
      checks as (select scope.*, ${checkColumns(checks)}, ${rejectedRows()} as rejected_rows from scope),
      created as (
        insert into review (job_id, reviewer_id, status, comments)
        select checks.job_id, ${principal.user_id}::integer, ${input.status}::review_status, ${comments}::text
        from checks where checks.passed
        returning *
      ), moved as (
        update annotation_job u set status = ${move.to}::annotation_job_status, updated_at = now(),
          reviewed_at = ${input.status === "approved" ? sql`now()` : sql`null`},
          submitted_at = ${input.status === "approved" ? sql`u.submitted_at` : sql`null`}
        from checks
        where u.job_id = checks.job_id and checks.passed
        returning u.job_id, u.project_id, u.status, checks.org_id, checks.status as previous_status
      ), ${submissionsCleared()}, ${returnRejectedRows()}, audited_review as (
        ${auditInsert(ctx, {
          action: "review.create",
          entity_type: "review",
          entity_id: sql`created.review_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          after: sql`jsonb_build_object('job_id', created.job_id, 'status', created.status, 'comments', created.comments)`,
        }, sql`created cross join checks`)}
      ), audited_move as (
        ${transitionAudit(ctx, move.name, "moved", {
          after: input.status === "approved"
            ? sql`jsonb_build_object('status', moved.status, 'review_id', (select review_id from created))`
            : sql`jsonb_build_object('status', moved.status, 'review_id', (select review_id from created),
              'returned_rows', (select coalesce(jsonb_agg(returned.row_index order by returned.row_index), '[]'::jsonb) from returned))`,
        })}
      )
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
