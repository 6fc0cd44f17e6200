/**
 * The QC stage's sample of a job's rows, in SQL over the `scope` CTE
 * (annotation-jobs/job-scope.ts). The job freezes its project's `qc_sample_rate` when a
 * reviewer's approval sends it to QC (`annotation_job.qc_sample_rate`), and the sample is
 * the ceil(rate × rows) rows of its range that come first when ordered by
 * md5("<job_id>:<row_index>") (then row_index): a pure function of the job, its range and
 * that rate, so every call — and anyone with md5 — draws the same rows, no row is more
 * likely than another, and a job of any size gets at least one row. Changing the
 * project's rate later does not move a job already in QC.
 */
import { sql, type SQL } from "drizzle-orm";

/** Over `scope`: the sampled row indexes, as a set-returning subquery (column `row_index`). */
export function qcSampleRows(): SQL {
  return sql`select gs.row_index from generate_series(scope.row_start, scope.row_end) as gs(row_index)
    where scope.qc_sample_rate is not null
    order by md5(scope.job_id::text || ':' || gs.row_index::text), gs.row_index
    limit ceil(coalesce(scope.qc_sample_rate, 0) * (scope.row_end - scope.row_start + 1))::integer`;
}

/** Over `scope`: the sampled rows that QC has not accepted yet (a jsonb array of row indexes, in order). */
export function qcUncheckedRows(): SQL {
  return sql`coalesce((select jsonb_agg(sample.row_index order by sample.row_index) from (${qcSampleRows()}) sample
    where not exists (select 1 from row_review rv where rv.job_id = scope.job_id and rv.row_index = sample.row_index
      and rv.verdict = 'accepted' and rv.stage = 'qc')), '[]'::jsonb)`;
}
