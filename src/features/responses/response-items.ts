/**
 * The job's items: its rows, each with the response the caller is shown (`annotation`),
 * how many responses the caller can see, the row's `final` value and whether the
 * responses `agreed` (stored, consensus.ts), all in the list's one query.
 */
import { sql } from "drizzle-orm";
import { encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { idAfter } from "../annotation-jobs/job-scope.ts";
import { readableRows } from "../annotations/annotations.service.ts";
import { rowSuggestionsSql, type RowSuggestion } from "../suggestions/row-suggestions.ts";
import { itemReviewSql, type ItemReview } from "../row-reviews/row-rules.ts";
import { visibleConsensus } from "./consensus.ts";
import { itemFilters, type ItemListQuery } from "./item-filters.ts";
import { afterRank, decodeRankCursor, encodeRankCursor, searchQuery, tableSearchConfig } from "../search/text-search.ts";
import { responseVisible, shownResponseOrder } from "./response-access.ts";

type ItemRow = {
  row_index: number;
  data: Record<string, unknown>;
  annotation_data: Record<string, unknown> | null;
  annotation_annotator_id: number | null;
  annotation_version: number | null;
  annotation_updated_by: number | null;
  annotation_updated_at: string | null;
  responses_count: number;
  final: Record<string, unknown> | null;
  agreed: boolean;
  suggestions: RowSuggestion[];
  review: ItemReview | null;
  rank_text: string | null;
};

function presentItem(row: ItemRow) {
  return {
    row_index: row.row_index,
    data: row.data,
    annotation: row.annotation_version === null
      ? null
      : {
        data: row.annotation_data!,
        annotator_id: row.annotation_annotator_id!,
        version: row.annotation_version,
        updated_by: row.annotation_updated_by,
        updated_at: isoTimestamp(row.annotation_updated_at!),
      },
    responses_count: row.responses_count,
    final: row.final,
    agreed: row.agreed,
    suggestions: row.suggestions,
    review: row.review,
  };
}

export type ItemView = ReturnType<typeof presentItem>;

/** The job's rows (row_start..row_end of its table) by row_index, with their responses' summary. */
export async function listItems(
  ctx: AuthenticatedContext,
  jobId: number,
  query: ItemListQuery,
): Promise<Page<ItemView>> {
  const { principal } = ctx;
  // With `q`: matching rows only, best first, paged by (rank, row_index) (search/text-search.ts).
  const ranked = query.q !== undefined;
  const after = ranked ? null : idAfter(query.cursor, "row_index");
  const position = ranked ? decodeRankCursor(query.cursor) : null;
  const rank = ranked ? sql`ts_rank(r.search, sq.query)` : sql`null::real`;
  const listed = await readableRows<ItemRow>(
    ctx,
    jobId,
    sql`select r.row_index, r.data, a.data as annotation_data, a.annotator_id as annotation_annotator_id, a.version as annotation_version,
        a.updated_by as annotation_updated_by, a.updated_at::text as annotation_updated_at,
        ${visibleConsensus(principal, "rc", "a")}, ${rowSuggestionsSql(sql`scope.table_id`, sql`r.row_index`)} as suggestions,
        ${itemReviewSql(sql`r.row_index`)} as review, ${rank} as rank, ${rank}::text as rank_text
      from file_table_row r
      ${ranked ? sql`cross join (select ${searchQuery(tableSearchConfig(sql`scope.table_id`), query.q!)} as query) sq` : sql``}
      left join lateral (
        select sa.* from annotation sa
        where sa.job_id = scope.job_id and sa.row_index = r.row_index and ${responseVisible(principal, "sa")}
        order by ${shownResponseOrder(principal, "sa")} limit 1
      ) a on true
      left join row_consensus rc on rc.job_id = scope.job_id and rc.row_index = r.row_index
      where r.table_id = scope.table_id and r.row_index between scope.row_start and scope.row_end
        ${after === null ? sql`` : sql`and r.row_index > ${after}::integer`} ${itemFilters(principal, query)}
        ${ranked ? sql`and r.search @@ sq.query and ${afterRank(rank, sql`r.row_index`, position)}` : sql``}
      order by ${ranked ? sql`rank desc, ` : sql``}r.row_index limit ${query.limit + 1}`,
    "row_index",
    ranked ? sql`listed.rank desc, listed.row_index` : sql`listed.row_index`,
  );
  const page = listed.rows.slice(0, query.limit);
  const last = page.at(-1);
  const more = listed.rows.length > query.limit && last;
  return {
    data: page.map(presentItem),
    next_cursor: more ? (ranked ? encodeRankCursor(last.rank_text!, last.row_index) : encodeCursor("row_index", null, last.row_index)) : null,
  };
}
