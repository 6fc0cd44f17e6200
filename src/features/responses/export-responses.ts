/**
 * What an export row carries about its responses, as a lateral subquery over the export
 * chunk query's `j` (job) and `r` (file_table_row): `data`, `updated_by`, `updated_at` of
 * the row's most recently saved response (the `annotation` column, as with one annotator
 * per row), `responses` (every response: `{annotator_id, data, submitted_at}` by
 * annotator, `submitted_at` being when that annotator submitted the job, null before),
 * `final` and `agreed` (stored, consensus.ts, with the reviewer's final values).
 */
import { sql, type SQL } from "drizzle-orm";

export function exportResponsesLateral(): SQL {
  return sql`select shown.data, shown.updated_by, shown.updated_at, resp.list as responses, rc.final, coalesce(rc.agreed, false) as agreed
    from (
      select coalesce(jsonb_agg(jsonb_build_object('annotator_id', x.annotator_id, 'data', x.data,
          'submitted_at', to_char(js.submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by x.annotator_id), '[]'::jsonb) as list
      from annotation x left join job_submission js on js.job_id = x.job_id and js.annotator_id = x.annotator_id
      where x.job_id = j.job_id and x.row_index = r.row_index
    ) resp
    left join lateral (
      select y.data, y.updated_by, y.updated_at from annotation y where y.job_id = j.job_id and y.row_index = r.row_index
      order by y.updated_at desc, y.annotator_id limit 1
    ) shown on true
    left join row_consensus rc on rc.job_id = j.job_id and rc.row_index = r.row_index`;
}
