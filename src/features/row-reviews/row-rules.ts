/**
 * What row verdicts (row_review) do to the rest of the job's lifecycle, as SQL fragments
 * over the `scope` CTE (annotation-jobs/job-scope.ts) for the statements that own those
 * moves: a save refuses rows the review did not send back, a submit waits for every
 * returned row to be redone, an approval refuses a job with rejected rows, a rejection
 * returns exactly the rejected rows. This file imports no other feature, so the job,
 * annotation and review services can all use it without a cycle.
 */
import { sql, type SQL } from "drizzle-orm";

/**
 * Over `scope`: whether row `rowIndex` may be saved while the job is in progress. An
 * accepted row never changes again; when the review sent rows back, only those are open
 * (a job rejected without rejecting any row goes back whole, as before row verdicts).
 */
export function rowOpenForWork(rowIndex: SQL): SQL {
  return sql`not exists (select 1 from row_review rv where rv.job_id = scope.job_id and rv.row_index = ${rowIndex} and rv.verdict = 'accepted')
    and (not exists (select 1 from row_review rv where rv.job_id = scope.job_id and rv.returned_after_revision is not null)
      or exists (select 1 from row_review rv where rv.job_id = scope.job_id and rv.row_index = ${rowIndex} and rv.returned_after_revision is not null))`;
}

/** Over `scope`: the first returned row that `annotatorId` has not saved since it was sent back (null when none). */
export function firstUnreworkedRow(annotatorId: number): SQL {
  return sql`(select min(rv.row_index) from row_review rv
    where rv.job_id = scope.job_id and rv.returned_after_revision is not null
      and not exists (select 1 from annotation_revision ar where ar.job_id = rv.job_id and ar.row_index = rv.row_index
        and ar.annotator_id = ${annotatorId}::integer and ar.revision_id > rv.returned_after_revision))`;
}

/** Over `scope`: the row indexes the review rejected (a jsonb array, empty when none). */
export function rejectedRows(): SQL {
  return sql`coalesce((select jsonb_agg(rv.row_index order by rv.row_index) from row_review rv
    where rv.job_id = scope.job_id and rv.verdict = 'rejected'), '[]'::jsonb)`;
}

/**
 * CTE `returned` of a rejection (over `moved`, the job back in progress): every
 * rejected row is marked as sent back after the job's newest revision, so only saves
 * made after this statement commits count as its rework.
 */
export function returnRejectedRows(): SQL {
  return sql`returned as (
      update row_review rv set returned_after_revision = coalesce(
          (select max(ar.revision_id) from annotation_revision ar where ar.job_id = rv.job_id), 0)
      from moved where rv.job_id = moved.job_id and moved.status = 'in_progress' and rv.verdict = 'rejected'
      returning rv.row_index
    )`;
}

export type ItemReview = {
  verdict: "accepted" | "rejected";
  stage: "review" | "qc";
  reason: string | null;
  reviewer_id: number | null;
  returned: boolean;
  updated_at: string;
};

/** A job item's `review` (json or null) for row `rowIndex` of the job in `scope`. */
export function itemReviewSql(rowIndex: SQL): SQL {
  return sql`(select json_build_object('verdict', rv.verdict, 'stage', rv.stage, 'reason', rv.reason, 'reviewer_id', rv.reviewer_id,
      'returned', rv.returned_after_revision is not null,
      'updated_at', to_char(rv.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    from row_review rv where rv.job_id = scope.job_id and rv.row_index = ${rowIndex})`;
}

export const ITEM_REVIEW_FILTERS = ["accepted", "rejected", "none"] as const;
export type ItemReviewFilter = (typeof ITEM_REVIEW_FILTERS)[number];

/** The items query's condition for `?review=` (over `scope` and `r`). */
export function itemReviewFilter(filter: ItemReviewFilter | undefined): SQL {
  if (filter === undefined) return sql``;
  const verdict = sql`(select rv.verdict from row_review rv where rv.job_id = scope.job_id and rv.row_index = r.row_index)`;
  return filter === "none" ? sql`and ${verdict} is null` : sql`and ${verdict} = ${filter}::row_verdict`;
}
