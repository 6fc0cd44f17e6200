/** Reading a job's QC sample: one query over the job's scope (qc-sample.ts draws the rows). */
import { sql } from "drizzle-orm";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can } from "../auth/principal.ts";
import { jobNotFound, jobScope } from "../annotation-jobs/job-scope.ts";
import type { JobStatus } from "../annotation-jobs/job-status.ts";
import { itemReviewSql, type ItemReview } from "../row-reviews/row-rules.ts";
import { qcSampleRows } from "./qc-sample.ts";

type SampleRow = {
  job_id: number;
  status: JobStatus;
  sample_rate: number | null;
  may_read: boolean;
  rows: { row_index: number; review: ItemReview | null; checked: boolean }[];
};

export async function getQcSample(ctx: AuthenticatedContext, jobId: number) {
  const result = await ctx.db.execute(sql`with ${jobScope(ctx, jobId)}
    select scope.job_id, scope.status, scope.qc_sample_rate as sample_rate, (scope.caller_reviews or scope.caller_manages) as may_read,
      coalesce((select json_agg(json_build_object('row_index', sample.row_index, 'review', ${itemReviewSql(sql`sample.row_index`)},
          'checked', exists (select 1 from row_review rv where rv.job_id = scope.job_id and rv.row_index = sample.row_index
            and rv.verdict = 'accepted' and rv.stage = 'qc')) order by sample.row_index)
        from (${qcSampleRows()}) sample), '[]'::json) as rows
    from scope`);
  const row = result.rows[0] as SampleRow | undefined;
  if (!row) throw jobNotFound(jobId);
  if (!row.may_read || !can(ctx.principal, "review:read")) {
    throw new ApiError("forbidden", `Only the reviewers and qc of job ${jobId}, the project's pm and platform admins read its QC sample.`);
  }
  return { job_id: row.job_id, status: row.status, sample_rate: row.sample_rate === null ? null : Number(row.sample_rate), rows: row.rows };
}
