/**
 * The filters of a job's item list (`GET /annotation-jobs/{job_id}/items`): the query
 * schema and each filter's condition, over the items query's `scope` (the job), `r`
 * (file_table_row), `a` (the response the caller is shown) and `rc` (row_consensus).
 * Every condition judges only what the caller may read: an annotator filtering by
 * another annotator's responses or agreement finds nothing, never a hint of them.
 */
import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { cursorSchema, limitSchema } from "../../lib/pagination.ts";
import { booleanQuery } from "../../lib/query-params.ts";
import type { Principal } from "../auth/principal.ts";
import { ITEM_REVIEW_FILTERS, itemReviewFilter } from "../row-reviews/row-rules.ts";
import { qParameter } from "../search/text-search.ts";
import { readsAllResponses, responseVisible } from "./response-access.ts";

export const ITEM_STATUSES = ["unanswered", "answered", "submitted"] as const;

export const itemListQuery = z.object({
  limit: limitSchema,
  cursor: cursorSchema,
  q: qParameter,
  annotated: booleanQuery("Only rows with (true) or without (false) an annotation."),
  status: z.enum(ITEM_STATUSES).optional().openapi({
    description:
      "Only rows whose responses (those you may read) are in this state: `unanswered` (none), `answered` (at least one whose " +
      "annotator has not submitted the job yet), `submitted` (some, and every one's annotator has submitted).",
  }),
  review: z.enum(ITEM_REVIEW_FILTERS).optional().openapi({
    description: "Only rows the review accepted, rejected (with the reasons the annotators redo them by), or gave no verdict (`none`).",
  }),
  agreed: booleanQuery("Only rows whose `agreed` is true (the responses agree) or false."),
  has_suggestion: booleanQuery("Only rows with (true) or without (false) a suggestion from any agent."),
  suggestion_score_lt: z.coerce
    .number()
    .refine(Number.isFinite, "must be a finite number")
    .optional()
    .openapi({ description: "Only rows with a suggestion whose `score` is below this (low-confidence suggestions to check first); unscored suggestions never match." }),
  assignee_id: z.coerce
    .number()
    .int()
    .positive()
    .max(2_147_483_647)
    .optional()
    .openapi({ description: "Only rows this annotator has a response on (among those you may read: an annotator only ever matches themself)." }),
});

export type ItemListQuery = z.output<typeof itemListQuery>;

/** A response (alias `alias`) of the item's row that the caller may read. */
function visibleResponses(principal: Principal, alias: string, extra: SQL): SQL {
  const x = sql.raw(alias);
  return sql`exists (select 1 from annotation ${x} where ${x}.job_id = scope.job_id and ${x}.row_index = r.row_index
    and ${responseVisible(principal, alias)} and ${extra})`;
}

function statusFilter(principal: Principal, status: ItemListQuery["status"]): SQL {
  if (status === undefined) return sql``;
  if (status === "unanswered") return sql`and a.job_id is null`;
  const unsubmitted = visibleResponses(principal, "fs",
    sql`not exists (select 1 from job_submission js where js.job_id = fs.job_id and js.annotator_id = fs.annotator_id)`);
  return status === "answered" ? sql`and ${unsubmitted}` : sql`and a.job_id is not null and not ${unsubmitted}`;
}

/** The item list's conditions for the query's filters (empty when none is set). */
export function itemFilters(principal: Principal, query: ItemListQuery): SQL {
  const conditions: SQL[] = [statusFilter(principal, query.status), itemReviewFilter(query.review)];
  if (query.annotated !== undefined) conditions.push(query.annotated ? sql`and a.job_id is not null` : sql`and a.job_id is null`);
  if (query.agreed !== undefined) {
    // The same `agreed` the item shows (visibleConsensus): the row's for those who read every response, else the caller's own.
    conditions.push(sql`and (case when ${readsAllResponses(principal)} then coalesce(rc.agreed, false) else coalesce(a.own_agreed, false) end) = ${query.agreed}`);
  }
  const suggested = (extra: SQL) => sql`exists (select 1 from suggestion fsg where fsg.table_id = scope.table_id and fsg.row_index = r.row_index and ${extra})`;
  if (query.has_suggestion !== undefined) conditions.push(sql`and ${query.has_suggestion ? sql`` : sql`not`} ${suggested(sql`true`)}`);
  if (query.suggestion_score_lt !== undefined) conditions.push(sql`and ${suggested(sql`fsg.score < ${query.suggestion_score_lt}::float8`)}`);
  if (query.assignee_id !== undefined) conditions.push(sql`and ${visibleResponses(principal, "fa", sql`fa.annotator_id = ${query.assignee_id}::integer`)}`);
  return sql.join(conditions, sql` `);
}
