/**
 * The rows an export reads: every row of every job in scope, each with its job's current
 * annotation, status and approving review, in (job_id, row_index) order, read in
 * keyset-paginated chunks (never OFFSET, so chunk n costs the same as chunk 1).
 *
 * Scope `approved`: jobs whose status is `reviewed` and whose latest verdict (the latest
 * review that is not `pending`) is `approved`. Scope `all`: every live job of the project.
 * The approving review (reviewer_id, reviewed_at) is that latest verdict when it is an
 * approval, otherwise null. `job_ids` and `file_ids` narrow the jobs (a job belongs to the
 * file whose version holds its table).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { exportResponsesLateral } from "../responses/export-responses.ts";
import type { CsvColumns, ExportRow } from "./export-format.ts";
import type { ExportFilters, ExportFormat, ExportScope, RowKey } from "./export-state.ts";

export type ExportSelection = {
  project_id: number;
  scope: ExportScope;
  filters: ExportFilters;
};

function idList(ids: number[]) {
  return sql`(select value::integer from jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;
}

/** The jobs in scope with their approving review, ordered by job_id; `fromJob` skips earlier ones. */
function jobsInScope(selection: ExportSelection, fromJob: number | null): SQL {
  const { job_ids, file_ids } = selection.filters;
  return sql`select j.job_id, j.table_id, j.row_start, j.row_end, j.status,
      case when verdict.status = 'approved' then verdict.reviewer_id end as reviewer_id,
      case when verdict.status = 'approved' then verdict.created_at end as reviewed_at
    from annotation_job j
    left join lateral (
      select rv.status, rv.reviewer_id, rv.created_at from review rv
      where rv.job_id = j.job_id and rv.status <> 'pending'
      order by rv.created_at desc, rv.review_id desc limit 1
    ) verdict on true
    where j.project_id = ${selection.project_id} and j.deleted_at is null
      ${fromJob === null ? sql`` : sql`and j.job_id >= ${fromJob}`}
      ${job_ids ? sql`and j.job_id in ${idList(job_ids)}` : sql``}
      ${file_ids ? sql`and j.table_id in (select t.table_id from file_table t join file_version v on v.version_id = t.version_id
        where v.file_id in ${idList(file_ids)})` : sql``}
      ${selection.scope === "approved" ? sql`and j.status = 'reviewed' and verdict.status = 'approved'` : sql``}
    order by j.job_id`;
}

export type ExportPlan = { total: number; columns: CsvColumns | null };

type PlanRow = {
  total: string | number;
  table_columns: { name: string }[][] | null;
  annotation_keys: string[] | null;
  annotation_scalar: boolean | null;
};

/**
 * Counts the rows (progress total) and, for CSV, decides the column set: the tables'
 * declared columns in the order of their first job, then the keys of the jobs'
 * annotations in byte order (`collate "C"`, so the order does not depend on the
 * database's locale). One pass over the annotations: about 3 s per million on
 * PostgreSQL 15, paid once per CSV export.
 */
export async function planExport(db: Database, selection: ExportSelection, format: ExportFormat): Promise<ExportPlan> {
  const csv = format === "csv";
  const result = await db.execute(sql`
    with jobs as materialized (${jobsInScope(selection, null)})
    select
      (select coalesce(sum(counted.n), 0) from jobs j cross join lateral (
        select count(*) as n from file_table_row r
        where r.table_id = j.table_id and r.row_index between j.row_start and j.row_end) counted) as total,
      ${csv ? sql`(select jsonb_agg(t.columns order by tj.first_job) from (
          select table_id, min(job_id) as first_job from jobs group by table_id) tj
          join file_table t on t.table_id = tj.table_id)` : sql`null`} as table_columns,
      ${csv ? sql`(select jsonb_agg(k order by k collate "C") from (
          select distinct k from annotation a cross join lateral jsonb_object_keys(a.data) k
          where a.job_id in (select job_id from jobs) and jsonb_typeof(a.data) = 'object') keys)` : sql`null`} as annotation_keys,
      ${csv ? sql`exists (select 1 from annotation a
          where a.job_id in (select job_id from jobs) and jsonb_typeof(a.data) <> 'object')` : sql`null`} as annotation_scalar`);
  const row = result.rows[0] as PlanRow;
  if (!csv) return { total: Number(row.total), columns: null };
  const source = [...new Set((row.table_columns ?? []).flatMap((columns) => columns.map((column) => column.name)))];
  return {
    total: Number(row.total),
    columns: { source, annotation: row.annotation_keys ?? [], annotation_scalar: row.annotation_scalar ?? false },
  };
}

/**
 * Up to `limit` rows strictly after `after` (null: from the first row), each with its
 * text already rendered (rowLineSql). One query per chunk: the jobs in order, and for
 * each the next row numbers of its range through the table's primary key (an index-only
 * scan); of those, the first `limit` in order; and only for these the row's data, its
 * responses and its text. Rendering inside the first step would render every remaining
 * job's next `limit` rows whenever the planner sorts them whole rather than job by job,
 * which it does when it expects a job to have few rows: 23 jobs × 5,000 rows rendered
 * and sorted on disk for a chunk of 5,000, about 1 s a chunk on PostgreSQL 15
 * (BENCHMARKS.md, "Export on PostgreSQL 15").
 */
export async function readChunk(
  db: Database,
  selection: ExportSelection,
  line: SQL,
  after: RowKey | null,
  limit: number,
): Promise<ExportRow[]> {
  const firstRow = after
    ? sql`case when j.job_id = ${after.job_id} then ${after.row_index} + 1 else j.row_start end`
    : sql`j.row_start`;
  const result = await db.execute(sql`
    select j.job_id, r.row_index, t.version_id, ${line} as line
    from (
      select j.*, kept.row_index as kept_row
      from (${jobsInScope(selection, after?.job_id ?? null)}) j
      cross join lateral (
        select kr.row_index from file_table_row kr
        where kr.table_id = j.table_id and kr.row_index >= ${firstRow} and kr.row_index <= j.row_end
        order by kr.row_index limit ${limit}
      ) kept
      order by j.job_id, kept.row_index
      limit ${limit}
    ) j
    join file_table t on t.table_id = j.table_id
    join file_version v on v.version_id = t.version_id
    join file_table_row r on r.table_id = j.table_id and r.row_index = j.kept_row
    cross join lateral (${exportResponsesLateral()}) a
    order by j.job_id, r.row_index`);
  return result.rows as ExportRow[];
}
