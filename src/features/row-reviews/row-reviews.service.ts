/**
 * A reviewer's verdict on one row: one statement that locks the job, checks the caller,
 * the row and the job's status, upserts the verdict and audits it (row_review.set).
 * What verdicts do afterwards lives with the moves they affect (row-rules.ts).
 */
import { sql } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { capacity, checksCte, firstFailure, jobNotFound, jobScope, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";
import { outOfRange } from "../annotations/annotations.service.ts";

type Verdict = "accepted" | "rejected";

type RowReviewRow = {
  job_id: number;
  row_index: number;
  verdict: Verdict;
  stage: "review" | "qc";
  reason: string | null;
  reviewer_id: number | null;
  rejections: number;
  returned: boolean;
  created_at: string;
  updated_at: string;
};

function present(row: RowReviewRow) {
  return { ...row, created_at: isoTimestamp(row.created_at), updated_at: isoTimestamp(row.updated_at) };
}

export type RowReviewView = ReturnType<typeof present>;

type SetRow = JobScopeRow & Record<string, unknown> & { saved: (RowReviewRow & { created: boolean }) | null };

export async function setRowReview(
  ctx: AuthenticatedContext,
  jobId: number,
  rowIndex: number,
  input: { verdict: Verdict; reason?: string | null | undefined },
): Promise<{ review: RowReviewView; created: boolean }> {
  const { principal } = ctx;
  const checks: Check<SetRow>[] = [
    {
      name: "may_review",
      holds: sql`(case when scope.status = 'awaiting_qc' then ${capacity(principal, "qc", "review:write")} else ${capacity(principal, "reviewer", "review:write")} end
        or ${capacity(principal, "manager", "review:write")})`,
      fail: (row) => new ApiError("forbidden", row.status === "awaiting_qc"
        ? `Job ${jobId} awaits QC: only a qc assigned to it, the project's pm or a platform admin can review its rows now.`
        : `Only a reviewer or qc assigned to job ${jobId}, the project's pm or a platform admin can review its rows.`),
    },
    { name: "in_range", holds: sql`${rowIndex}::integer between scope.row_start and scope.row_end`, fail: (row) => outOfRange(jobId, rowIndex, row) },
    {
      name: "submitted",
      holds: sql`scope.status in ('submitted', 'awaiting_qc')`,
      fail: (row) => new ApiError("conflict", `Job ${jobId} is ${row.status}; its rows are reviewed while it is submitted or awaiting QC.`),
    },
  ];
  const reason = input.reason === undefined || input.reason === "" ? null : input.reason;
  // A rejection counts once per rejecting look at the row: a new rejected verdict, or one given again after the row was redone.
  const rejection = sql`case when ${input.verdict}::row_verdict = 'rejected' then 1 else 0 end`;
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId, { lock: true, progress: false })},
      ${checksCte(checks)},
      previous as (select rv.verdict from row_review rv join checks on rv.job_id = checks.job_id where rv.row_index = ${rowIndex}::integer),
      saved as (
        insert into row_review (job_id, row_index, verdict, stage, reason, reviewer_id, rejections)
        select checks.job_id, ${rowIndex}::integer, ${input.verdict}::row_verdict,
          case when checks.status = 'awaiting_qc' then 'qc' else 'review' end::review_stage, ${reason}::text, ${principal.user_id}::integer, ${rejection}
        from checks where checks.passed
        on conflict (job_id, row_index) do update
          set verdict = excluded.verdict, stage = excluded.stage, reason = excluded.reason, reviewer_id = excluded.reviewer_id,
            rejections = row_review.rejections + case when excluded.verdict = 'rejected'
              and (row_review.verdict <> 'rejected' or row_review.returned_after_revision is not null) then 1 else 0 end, returned_after_revision = null, updated_at = now()
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "row_review.set",
          entity_type: "row_review",
          entity_id: sql`saved.job_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          before: sql`(select jsonb_build_object('verdict', previous.verdict) from previous)`,
          after: sql`jsonb_build_object('job_id', saved.job_id, 'row_index', saved.row_index, 'verdict', saved.verdict, 'stage', saved.stage, 'reason', saved.reason)`,
        }, sql`saved cross join checks`)}
      )
      select checks.*, (select row_to_json(s) from (
          select saved.job_id, saved.row_index, saved.verdict, saved.stage, saved.reason, saved.reviewer_id, saved.rejections,
            saved.returned_after_revision is not null as returned, saved.created_at::text as created_at, saved.updated_at::text as updated_at,
            not exists (select 1 from previous) as created
          from saved) s) as saved
      from checks`,
  ]);
  const row = rows[0] as SetRow | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  const { created, ...review } = row.saved!;
  return { review: present(review), created };
}
