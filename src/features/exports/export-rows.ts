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
 * A chunk of rows; `next`: where the chunk after it starts (null: no row is left);
 * `ahead`: where the chunk after that one starts if it has `ahead` rows (null: nothing
 * follows it; undefined: unknown, where ranges with gaps make the chunk after it short).
 */
export type ExportChunk = { rows: ExportRow[]; next: RowKey | null; ahead: RowKey | null | undefined };

type ChunkSummary = {
  found: number;
  at_limit: RowKey | null;
  at_total: RowKey | null;
  last_candidate: { job_id: number; row_end: number; jobs_after: number } | null;
};

type ChunkLine = ExportRow & { summary: ChunkSummary | null };

/**
 * Up to `limit` rows strictly after `after` (null: from the first row), each with its
 * text already rendered (rowLineSql), where the next chunk starts, and where the one after
 * it starts if it holds `ahead` rows, so that the writer can ask for both at once
 * (export-chunks.ts). One query per chunk:
 * - `candidates`: the jobs in order, for as long as the rows their ranges can hold (a
 *   bound from above: every row index of a range in use) fall short of `limit + ahead + 1`.
 *   Every range holds at least one index (row_start <= row_end), so these are among the
 *   first `limit + ahead + 2` jobs, and one more tells whether any job follows them: a
 *   chunk never reads the jobs after it;
 * - `keys`: of their rows (the table's primary key per job, index only), the first
 *   `limit + ahead + 1` in order, numbered (the last says whether rows follow the chunk
 *   after next);
 * - only for the first `limit`: the row's data, its responses and its text;
 * - a last line that is no row: how many keys there were, those at `limit` and at
 *   `limit + ahead`, and where the candidates end and whether jobs follow them. Where
 *   ranges have gaps the chunk is short, and the next one starts after the last candidate.
 *
 * Each step is a CTE or a lateral subquery so that the planner cannot choose a join that
 * reads the table from its first row (it expects few rows of a job and chose a merge join
 * over the table's whole primary key). Picking among every remaining job's next `limit`
 * rows read up to 5,000 index entries of each of them per chunk (100 jobs: a million rows
 * took 4.4× the time of 300,000); rendering while picking rendered them all (23 jobs ×
 * 5,000 rows for a chunk of 5,000, about 1 s a chunk on PostgreSQL 15); a walk counting
 * job by job through a CTE is quadratic in jobs (20,000 jobs of 5 rows: 13 s against 3).
 * BENCHMARKS.md, "Export on PostgreSQL 15" and "Export at 0.78 of COPY".
 */
export async function readChunk(
  db: Database,
  selection: ExportSelection,
  line: SQL,
  after: RowKey | null,
  limit: number,
  ahead: number,
): Promise<ExportChunk> {
  if (!(limit >= 1 && ahead >= 1)) throw new Error(`a chunk needs limit and ahead of at least 1 (${limit}, ${ahead})`);
  const total = limit + ahead;
  // One key past the chunk after next tells whether anything follows it.
  const keysWanted = total + 1;
  const firstRow = after
    ? sql`case when j.job_id = ${after.job_id} then ${after.row_index} + 1 else j.row_start end`
    : sql`j.row_start`;
  const keyAt = (position: number) =>
    sql`(select jsonb_build_object('job_id', k.job_id, 'row_index', k.kept_row) from keys k where k.position = ${position})`;
  const result = await db.execute(sql`
    with candidates as materialized (
      select ranked.*, t.version_id, v.file_id
      from (
        select j.*, ${firstRow} as first_row,
          sum(greatest(0, j.row_end - ${firstRow} + 1)) over (order by j.job_id) - greatest(0, j.row_end - ${firstRow} + 1) as before,
          count(*) over () - row_number() over (order by j.job_id) as jobs_after
        from (${jobsInScope(selection, after?.job_id ?? null)} limit ${keysWanted + 2}) j
      ) ranked
      join file_table t on t.table_id = ranked.table_id
      join file_version v on v.version_id = t.version_id
      where ranked.before < ${keysWanted}
    ),
    keys as materialized (
      select picked.*, row_number() over (order by picked.job_id, picked.kept_row) as position
      from (
        select j.*, kept.row_index as kept_row
        from candidates j
        cross join lateral (
          select kr.row_index from file_table_row kr
          where kr.table_id = j.table_id and kr.row_index >= j.first_row and kr.row_index <= j.row_end
          order by kr.row_index limit ${keysWanted}
        ) kept
        order by j.job_id, kept.row_index
        limit ${keysWanted}
      ) picked
    )
    select * from (
      select j.job_id, r.row_index, j.version_id, ${line} as line, null::jsonb as summary
      from keys j
      cross join lateral (
        select kr.row_index, kr.data from file_table_row kr where kr.table_id = j.table_id and kr.row_index = j.kept_row limit 1
      ) r
      cross join lateral (${exportResponsesLateral()}) a
      where j.position <= ${limit}
      union all
      select null, null, null, null, jsonb_build_object(
        'found', (select count(*) from keys),
        'at_limit', ${keyAt(limit)},
        'at_total', ${keyAt(total)},
        'last_candidate', (select jsonb_build_object('job_id', c.job_id, 'row_end', c.row_end, 'jobs_after', c.jobs_after)
          from candidates c order by c.job_id desc limit 1))
    ) chunk
    order by chunk.summary is not null, chunk.job_id, chunk.row_index`);
  const lines = result.rows as ChunkLine[];
  const summary = lines.pop()?.summary;
  if (!summary) throw new Error("the chunk query returned no summary line");
  const rows: ExportRow[] = lines;
  const last = summary.last_candidate;
  const afterCandidates = last && last.jobs_after > 0 ? { job_id: last.job_id, row_index: last.row_end } : null;
  const found = Number(summary.found);
  if (found < limit) return { rows, next: afterCandidates, ahead: afterCandidates ? undefined : null };
  if (found > total || (found === total && afterCandidates)) return { rows, next: summary.at_limit, ahead: summary.at_total };
  if (found === total) return { rows, next: summary.at_limit, ahead: null };
  // Fewer than `limit + ahead` rows: the rest of the export, unless jobs follow the candidates.
  if (afterCandidates) return { rows, next: summary.at_limit, ahead: undefined };
  return { rows, next: found > limit ? summary.at_limit : null, ahead: null };
}
